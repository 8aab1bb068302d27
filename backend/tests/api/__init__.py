"""The API's tests, one module per resource."""

# UserPublic, as CONTRACT.md lists it: what every user in a response carries, and nothing else.
USER_PUBLIC_FIELDS = {
    "id",
    "username",
    "email",
    "first_name",
    "last_name",
    "is_active",
    "is_staff",
    "is_superuser",
    "date_joined",
    "last_login",
}
