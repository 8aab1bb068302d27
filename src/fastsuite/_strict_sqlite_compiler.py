"""Strict SQLite in the dialect's compiler: statements PostgreSQL would not plan fail.

Checked once per statement shape (SQLAlchemy caches the compiled SQL): a comparison of
mismatched types ("operator does not exist") or a grouped SELECT of an ungrouped column is
compiled into a call that raises, and every divisor into one that refuses zero.

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, schema, types
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import compiler, elements, operators

from fastsuite._strict_sqlite import strict_message

_PG_NAMES: tuple[tuple[type[Any], str], ...] = (
    (types.Text, "text"),
    (types.String, "character varying"),
    (types.Boolean, "boolean"),
    (types.SmallInteger, "smallint"),
    (types.BigInteger, "bigint"),
    (types.Integer, "integer"),
    (types.Float, "double precision"),
    (types.Numeric, "numeric"),
    (types.Date, "date"),
)
_PG_OPERATORS = {
    operators.in_op: "=",
    operators.not_in_op: "<>",
    operators.like_op: "~~",
    operators.not_like_op: "!~~",
    operators.ilike_op: "~~*",
    operators.not_ilike_op: "!~~*",
}
_NOT_COMPARISONS = {operators.is_, operators.is_not, operators.is_distinct_from}


def _group(type_: Any) -> str | None:
    """The family of a type, as PostgreSQL's operators see it (None: unknown, no check)."""
    affinity = getattr(type_, "_type_affinity", None)
    if affinity is None or not isinstance(affinity, type):
        return None
    if issubclass(affinity, types.String):
        return "text"
    if issubclass(affinity, types.Boolean):
        return "boolean"
    if issubclass(affinity, types.Integer | types.Numeric):
        return "number"
    if issubclass(affinity, types.DateTime | types.Date):
        return "datetime"
    return None


def _pg_operator(operator: Any) -> str:
    if operator in _PG_OPERATORS:
        return _PG_OPERATORS[operator]
    return str(compiler.OPERATORS.get(operator, "=")).strip()


def _pg_name(type_: Any) -> str:
    """The type's name as PostgreSQL's messages spell it."""
    while isinstance(type_, types.TypeDecorator):
        type_ = type_.impl_instance
    for kind, name in _PG_NAMES:
        if isinstance(type_, kind):
            return name
    if isinstance(type_, types.DateTime):
        zone = "with" if type_.timezone else "without"
        return f"timestamp {zone} time zone"
    return str(type_).lower()


def strict_compiler(dialect: Dialect, checks: frozenset[str]) -> None:
    base: Any = dialect.statement_compiler
    compare = "bound_types" in checks
    divide = "division_by_zero" in checks
    group = "group_by" in checks
    if not (compare or divide or group):
        return

    def guarded(binary: Any) -> Any:
        right = func.fastsuite_divisor(binary.right, type_=binary.right.type)
        return elements.BinaryExpression(binary.left, right, binary.operator, type_=binary.type)

    class StrictCompiler(base):  # type: ignore[misc]
        def visit_binary(self, binary: Any, override_operator: Any = None, **kw: Any) -> Any:
            operator = override_operator or binary.operator
            if compare and operator not in _NOT_COMPARISONS and operators.is_comparison(operator):
                left, right = _group(binary.left.type), _group(binary.right.type)
                if left and right and left != right:
                    problem = (
                        f"operator does not exist: {_pg_name(binary.left.type)} "
                        f"{_pg_operator(operator)} "
                        f"{_pg_name(binary.right.type)}"
                    )
                    message = strict_message("bound_types", problem).replace("'", "''")
                    return f"fastsuite_refuse('{message}')"
            return super().visit_binary(binary, override_operator=override_operator, **kw)

        def visit_select(self, select_stmt: Any, **kw: Any) -> Any:
            toplevel = not self.stack
            sql = super().visit_select(select_stmt, **kw)
            if not (group and toplevel and select_stmt._group_by_clauses):
                return sql
            statement = getattr(self.compile_state, "statement", select_stmt)
            ungrouped = _ungrouped_column(statement)
            if ungrouped is None:
                return sql
            problem = (
                f'column "{ungrouped}" must appear in the GROUP BY clause or be used in an '
                "aggregate function"
            )
            message = strict_message("group_by", problem).replace("'", "''")
            # The refusal is a constant: SQLite evaluates it once, before the first row.
            # SQLAlchemy's own compiled SQL and a quoted literal: nothing of the user's.
            return f"SELECT * FROM ({sql}) WHERE fastsuite_refuse('{message}')"  # noqa: S608

        if divide:

            def visit_truediv_binary(self, binary: Any, operator: Any, **kw: Any) -> Any:
                return super().visit_truediv_binary(guarded(binary), operator, **kw)

            def visit_floordiv_binary(self, binary: Any, operator: Any, **kw: Any) -> Any:
                return super().visit_floordiv_binary(guarded(binary), operator, **kw)

            def visit_mod_binary(self, binary: Any, operator: Any, **kw: Any) -> Any:
                return super().visit_mod_binary(guarded(binary), operator, **kw)

    dialect.statement_compiler = StrictCompiler


def _table_column(element: Any) -> Any:
    """The table column an expression is, or None (an aggregate, an expression, a subquery's)."""
    while isinstance(element, elements.Label):
        element = element.element
    if isinstance(element, schema.Column) and isinstance(element.table, schema.Table):
        return element
    return None


def _ungrouped_column(statement: Any) -> str | None:
    """A selected column PostgreSQL would refuse in this grouped SELECT ("table.column"), if any.

    Allowed: a grouped column, anything inside an aggregate or another expression (not looked
    into: no false alarm), a column of a table whose primary key is grouped.
    """
    grouped = set()
    for clause in statement._group_by_clauses:
        column = _table_column(clause)
        if column is None and not isinstance(clause, elements.ColumnElement):
            return None  # a textual GROUP BY: nothing to compare with
        if column is not None:
            grouped.add((column.table, column.name))
    for selected in statement.selected_columns:
        column = _table_column(selected)
        if column is None or (column.table, column.name) in grouped:
            continue
        key = column.table.primary_key.columns
        if len(key) and all((column.table, pk.name) in grouped for pk in key):
            continue
        return f"{column.table.name}.{column.name}"
    return None
