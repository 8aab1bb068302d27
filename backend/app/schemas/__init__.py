"""Request and response bodies: XBase / XCreate / XUpdate / XPublic / XsPublic per resource."""
