"""Which columns of which upstream relations a model's compiled SQL reads, and where.

Pure: compiled SQL and the upstream relations' known columns in, plain dataclasses out; no ORM.
sqlglot does the parsing (in the warehouse's dialect) and the qualification (every column tied to
the relation it comes from, ``*`` expanded against the contracts' columns); this module only
walks the qualified tree and names what it finds. A CTE's or subquery's projections only pass
columns on: an upstream column counts where an outer query uses it, so the dbt habit of "import"
CTEs (``with orders as (select * from ...)``) counts only the columns the model goes on to use.

A ``*`` that reaches the model's own output (``select * from upstream``, directly or through CTEs
that pass it on) is different: every column of the upstream flows out, so the read is flagged
(``star``) and counts as every column. SQL that cannot be parsed or qualified gives an
*unknown* usage carrying sqlglot's message: nothing is guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, build_scope, traverse_scope

__all__ = [
    "CLAUSES",
    "ModelUsage",
    "ParsedSql",
    "UpstreamUsage",
    "dialect_for_adapter",
    "extract_usage",
    "parse_sql",
    "relation_of",
]

# Where a column is read, in the order pages list them.
CLAUSES = ("select", "filter", "join", "group", "order")

# dbt adapter types whose SQL dialect sqlglot names differently (the rest share the name).
_ADAPTER_DIALECTS = {
    "databricks": "databricks",
    "spark": "spark",
    "sqlserver": "tsql",
    "fabric": "tsql",
    "synapse": "tsql",
    "athena": "athena",
    "glue": "spark",
    "trino": "trino",
    "starburst": "trino",
    "materialize": "postgres",
    "postgres": "postgres",
    "redshift": "redshift",
}


def dialect_for_adapter(adapter_type: str | None) -> str | None:
    """sqlglot's dialect for a dbt ``metadata.adapter_type``; None (generic SQL) when unknown."""
    name = (adapter_type or "").strip().lower()
    if not name:
        return None
    name = _ADAPTER_DIALECTS.get(name, name)
    try:
        sqlglot.Dialect.get_or_raise(name)
    except ValueError:
        return None
    return name


@dataclass(slots=True)
class UpstreamUsage:
    """What one model reads of one upstream relation."""

    relation: str
    columns: dict[str, list[str]] = field(default_factory=dict)  # column -> clauses, in CLAUSES order
    star: str = ""  # "" or how the model selects every column ("*", "* EXCLUDE (a, b)")
    feeds: dict[str, list[str]] = field(default_factory=dict)  # column -> the model's output columns

    def as_dict(self) -> dict[str, object]:
        return {"relation": self.relation, "columns": self.columns, "star": self.star, "feeds": self.feeds}


@dataclass(slots=True)
class ModelUsage:
    """The result for one model: ``known`` with the reads per upstream relation, or ``unknown``
    with the reason (the parser's own message)."""

    known: bool
    upstream: dict[str, UpstreamUsage] = field(default_factory=dict)  # relation -> usage
    message: str = ""


@dataclass(slots=True)
class ParsedSql:
    """A parsed statement, or the parser's message when it could not be parsed."""

    tree: exp.Expression | None
    dialect: str | None
    message: str = ""

    def relations(self) -> list[str]:
        """Normalised relations (``db.schema.table``) the statement reads, CTE names excluded."""
        if self.tree is None:
            return []
        return sorted({rel for table in _physical_tables(self.tree) if (rel := relation_of(table))})


def parse_sql(sql: str, *, dialect: str | None) -> ParsedSql:
    """Parse one compiled model. dbt's compiled code is a single SELECT (perhaps WITH ...)."""
    try:
        statements = [s for s in sqlglot.parse(sql, dialect=dialect) if s is not None]
    except SqlglotError as exc:
        return ParsedSql(
            None, dialect, f"The SQL could not be parsed ({dialect or 'generic'}): {_first_line(exc)}"
        )
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        kinds = ", ".join(type(s).__name__ for s in statements) or "nothing"
        return ParsedSql(None, dialect, f"Expected one SELECT statement, found {kinds}.")
    return ParsedSql(statements[0], dialect)


def relation_of(table: exp.Table) -> str:
    """``catalog.db.name`` of a table reference, lower case, empty parts dropped."""
    parts = [table.catalog, table.db, table.name]
    return ".".join(p.lower() for p in parts if p)


def extract_usage(parsed: ParsedSql, *, columns_by_relation: Mapping[str, Iterable[str]]) -> ModelUsage:
    """Qualify the statement against the upstream relations' columns and collect the reads.

    ``columns_by_relation``: every relation the caller knows (from contracts), with its columns.
    Relations the statement reads that are not in it are left out of the result (they are not
    assets Tessera tracks); their columns are still qualified when unambiguous.
    """
    if parsed.tree is None:
        return ModelUsage(known=False, message=parsed.message)
    tree = parsed.tree  # qualified in place: a ParsedSql is read once
    known = {rel: [c.lower() for c in cols] for rel, cols in columns_by_relation.items()}
    stars = _stars_reaching_output(tree)
    schema = _schema_for(tree, known)
    try:
        qualified = qualify(
            tree,
            schema=schema,
            dialect=parsed.dialect,
            # Relations without known columns (a seed or source that declares none) cannot be
            # validated by sqlglot; _physical ties their columns when one relation is in scope and
            # reports the rest as unresolved, which is what validation would have said.
            validate_qualify_columns=False,
            quote_identifiers=False,
            identify=False,
        )
        _require_expanded_stars(qualified)
        scopes = traverse_scope(qualified)
        usage: dict[str, UpstreamUsage] = {}
        for relation, column, clause, output in _reads(scopes, set(known)):
            entry = usage.setdefault(relation, UpstreamUsage(relation=relation))
            clauses = entry.columns.setdefault(column, [])
            if clause not in clauses:
                clauses.append(clause)
            if output:
                outputs = entry.feeds.setdefault(column, [])
                if output not in outputs:
                    outputs.append(output)
    except (SqlglotError, _Unresolved) as exc:
        return ModelUsage(known=False, message=f"The columns could not be qualified: {_first_line(exc)}")
    for relation, star in stars.items():
        if relation in known:
            entry = usage.setdefault(relation, UpstreamUsage(relation=relation))
            entry.star = star
            for name in known[relation]:
                if not star.startswith("* EXCLUDE") or name not in _excluded(star):
                    entry.columns.setdefault(name, ["select"])
                    entry.feeds.setdefault(name, [name])
    for entry in usage.values():
        entry.columns = {
            name: sorted(clauses, key=CLAUSES.index) for name, clauses in sorted(entry.columns.items())
        }
        entry.feeds = {name: sorted(outputs) for name, outputs in sorted(entry.feeds.items())}
    return ModelUsage(known=True, upstream=dict(sorted(usage.items())))


# --- helpers ---------------------------------------------------------------------------------------
def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:500] if text else exc.__class__.__name__


def _physical_tables(tree: exp.Expression) -> Iterable[exp.Table]:
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        if not table.name or (not table.db and table.name.lower() in ctes):
            continue
        yield table


def _schema_for(tree: exp.Expression, known: Mapping[str, list[str]]) -> dict[str, object]:
    """A nested sqlglot schema of the relations the statement reads, spelled as the SQL spells them
    (so the dialect's identifier normalisation treats both sides alike). Types do not matter for
    qualification; every column is given one so sqlglot has nothing to parse.

    sqlglot wants every table at one nesting depth: if the SQL mixes 2- and 3-part names only the
    3-part ones are kept (dbt renders full names; a shorter one was written by hand)."""
    tables: dict[tuple[str, ...], list[str]] = {}
    for table in _physical_tables(tree):
        columns = known.get(relation_of(table))
        if columns:
            tables[tuple(p for p in (table.catalog, table.db, table.name) if p)] = columns
    deepest = max((len(parts) for parts in tables), default=0)
    schema: dict[str, object] = {}
    for parts, columns in tables.items():
        if len(parts) != deepest:
            continue
        node = schema
        for part in parts[:-1]:
            node = node.setdefault(part, {})  # type: ignore[assignment]
        node[parts[-1]] = dict.fromkeys(columns, "VARCHAR")
    return schema


Physical = set[tuple[str, str]]  # (relation, column)


class _Unresolved(Exception):
    """A column that cannot be tied to one relation: usage unknown, never guessed."""


def _reads(scopes: list[Scope], known: set[str]) -> Iterable[tuple[str, str, str, str]]:
    """(relation, column, clause, output column or "") for every read of a known relation.

    A CTE's or derived table's projections only pass columns on: their upstream columns are
    counted where the outer query uses them (an import CTE's ``order_id`` used as a join key
    outside is a join key). Scopes come innermost first, so a CTE's lineage is known before use.
    """
    lineage: dict[tuple[int, str], Physical] = {}
    for scope in scopes:
        passthrough = _passes_through(scope)
        if isinstance(scope.expression, exp.SetOperation):
            if passthrough:
                _union_lineage(scope, lineage)
            continue
        projected: set[int] = set()
        for projection in scope.expression.selects:
            columns = list(projection.find_all(exp.Column))
            projected.update(id(c) for c in columns)
            physical: Physical = set()
            for column in columns:
                physical |= _physical(scope, column, lineage, known)
            if passthrough:
                lineage[(id(scope), projection.alias_or_name.lower())] = physical
            else:
                clause = _subquery_clause(scope)
                output = "" if scope.is_subquery else projection.alias_or_name.lower()
                yield from ((rel, col, clause, output) for rel, col in physical)
        for column in scope.columns:
            if id(column) not in projected:
                clause = _clause_of(column, scope)
                yield from ((rel, col, clause, "") for rel, col in _physical(scope, column, lineage, known))


def _require_expanded_stars(tree: exp.Expression) -> None:
    """A ``*`` left after qualification reads a relation whose columns nobody declared."""
    for star in tree.find_all(exp.Star):
        projection = star.parent if isinstance(star.parent, exp.Column) else star
        select = projection.parent
        if isinstance(select, exp.Select) and projection.arg_key == "expressions":
            sources = ", ".join(
                sorted(relation_of(t) for t in select.find_all(exp.Table) if t.parent_select is select)
            )
            raise _Unresolved(
                f"The * over {sources or 'a subquery'} cannot be expanded: no contract lists its columns."
            )


def _passes_through(scope: Scope) -> bool:
    if scope.is_cte or scope.is_derived_table:
        return True
    parent = scope.parent
    if scope.is_set_operation and parent is not None and isinstance(parent.expression, exp.SetOperation):
        return _passes_through(parent)
    return False


def _union_lineage(scope: Scope, lineage: dict[tuple[int, str], Physical]) -> None:
    branches = scope.set_operation_scopes
    if not branches or not isinstance(branches[0].expression, exp.Select):
        return
    names = [p.alias_or_name.lower() for p in branches[0].expression.selects]
    for index, name in enumerate(names):
        merged: Physical = set()
        for branch in branches:
            selects = branch.expression.selects if isinstance(branch.expression, exp.Query) else []
            if index < len(selects):
                merged |= lineage.get((id(branch), selects[index].alias_or_name.lower()), set())
        lineage[(id(scope), name)] = merged


def _subquery_clause(scope: Scope) -> str:
    """Projections of the output read as "select"; those of a subquery in a WHERE as "filter"…"""
    if scope.is_subquery and scope.parent is not None:
        return _clause_of(scope.expression, scope.parent)
    return "select"


def _physical(
    scope: Scope, column: exp.Column, lineage: dict[tuple[int, str], Physical], known: set[str]
) -> Physical:
    """The upstream (relation, column) pairs a column reference stands for."""
    table = column.table
    if not table:
        selected = _selected_names(scope)
        if len(selected) != 1:
            where = f" (line {column.meta['line']})" if "line" in column.meta else ""
            raise _Unresolved(f"Column '{column.name}' could not be tied to one relation{where}.")
        table = selected[0]
    current: Scope | None = scope
    while current is not None:  # correlated columns live in an outer scope
        source = current.sources.get(table)
        if source is not None:
            if isinstance(source, exp.Table):
                relation = relation_of(source)
                return {(relation, column.name.lower())} if relation in known else set()
            if isinstance(source, Scope):
                return lineage.get((id(source), column.name.lower()), set())
            return set()
        current = current.parent
    return set()


def _clause_of(node: exp.Expression, scope: Scope) -> str:
    """Where a column is read in its scope; a window's PARTITION/ORDER BY count as the clause the
    window sits in (a ROW_NUMBER() in QUALIFY filters, in the select list it selects)."""
    top = scope.expression
    chain: list[exp.Expression] = []
    current: exp.Expression | None = node
    while current is not None and current is not top:
        chain.append(current)
        current = current.parent
    in_window = any(isinstance(n, exp.Window) for n in chain)
    for current in chain:
        parent = current.parent
        if isinstance(current, (exp.Where, exp.Having, exp.Qualify)):
            return "filter"
        elif isinstance(parent, exp.Join) and current.arg_key in ("on", "using"):
            return "join"
        elif not in_window and isinstance(current, exp.Group):
            return "group"
        elif not in_window and isinstance(current, exp.Order):
            return "order"
    return "select"


def _stars_reaching_output(tree: exp.Expression) -> dict[str, str]:
    """Relations whose every column flows into the model's output through ``*``."""
    found: dict[str, str] = {}
    if next(tree.find_all(exp.Star), None) is None:
        return found  # the common case, and building scopes is not free
    root = build_scope(tree)
    if root is None:
        return found
    pending: list[Scope] = [root]
    seen: set[int] = set()
    while pending:
        scope = pending.pop()
        if id(scope) in seen:
            continue
        seen.add(id(scope))
        pending.extend(scope.set_operation_scopes)
        if not isinstance(scope.expression, exp.Select):
            continue
        for projection in scope.expression.selects:
            for source, spelled in _star_sources(scope, projection):
                if isinstance(source, Scope):
                    pending.append(source)
                elif isinstance(source, exp.Table) and (relation := relation_of(source)):
                    found[relation] = spelled
    return found


def _star_sources(scope: Scope, projection: exp.Expression) -> list[tuple[object, str]]:
    if isinstance(projection, exp.Star):
        excluded = projection.args.get("except_") or []
        spelled = "*"
        if excluded:
            spelled = "* EXCLUDE (" + ", ".join(sorted(e.name.lower() for e in excluded)) + ")"
        return [(source, spelled) for source in _selected_sources(scope)]
    if isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star):
        source = scope.sources.get(projection.table)
        return [(source, "*")] if source is not None else []
    return []


def _selected_names(scope: Scope) -> list[str]:
    """The aliases of a scope's FROM and JOINs (not those of CTE definitions it can see)."""
    select = scope.expression
    if not isinstance(select, exp.Select):
        return []
    from_ = select.args.get("from_")
    names = [from_.this.alias_or_name] if from_ is not None else []
    names += [join.this.alias_or_name for join in select.args.get("joins") or []]
    return names


def _selected_sources(scope: Scope) -> list[object]:
    return [scope.sources[name] for name in _selected_names(scope) if name in scope.sources]


def _excluded(star: str) -> set[str]:
    inside = star.partition("(")[2].rstrip(")")
    return {name.strip() for name in inside.split(",") if name.strip()}
