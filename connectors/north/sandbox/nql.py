"""NQL, North's query language for initiatives (grammar in the vendor NOTES.md).

    query    := or_expr [ORDER BY field [ASC|DESC]]
    or_expr  := and_expr (OR and_expr)*
    and_expr := not_expr (AND not_expr)*
    not_expr := NOT not_expr | "(" or_expr ")" | clause
    clause   := field op value | field IS [NOT] (SET | NULL)
    op       := = | < | <= | > | >=
    value    := "double-quoted string or date" | number

Keywords are case-insensitive. ``parse`` raises ``NQLError`` naming the problem and its position.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Predicate = Callable[[dict[str, Any]], bool]

# field -> kind of value it compares: user id, number, status word, priority, date or timestamp
FIELDS = {
    "status": "status",
    "owner": "user",
    "priority": "priority",
    "created_at": "timestamp",
    "updated_at": "timestamp",
    "due_date": "date",
    "start_date": "date",
    "team": "number",
    "goal": "number",
}
STATUS_VALUES = ("not-started", "on-track", "behind", "at-risk", "done")
PRIORITY_RANK = {"low": 1, "medium": 2, "high": 3}
KEYWORDS = {"and", "or", "not", "is", "set", "null", "order", "by", "asc", "desc"}
_TOKEN = re.compile(
    r'\s*(?:(?P<op><=|>=|=|<|>)|(?P<paren>[()])|(?P<string>"[^"]*")|(?P<number>-?\d+(?:\.\d+)?)|(?P<word>[A-Za-z_][A-Za-z0-9_]*)|(?P<bad>\S))'
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")


class NQLError(ValueError):
    pass


@dataclass
class Query:
    predicate: Predicate
    order_by: str | None = None
    descending: bool = False

    def apply(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = [item for item in items if self.predicate(item)]
        if self.order_by:
            field = self.order_by
            present = [i for i in out if _field_value(i, field) is not None]
            missing = [i for i in out if _field_value(i, field) is None]
            present.sort(key=lambda i: _sort_key(field, _field_value(i, field)), reverse=self.descending)
            out = present + missing  # unset values last, whichever the direction
        return out


@dataclass
class _Token:
    kind: str
    text: str
    pos: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None:  # pragma: no cover - the pattern matches any non-space character
            raise NQLError(f"cannot read NQL at position {pos}")
        kind = match.lastgroup or "bad"
        value = match.group(kind)
        start = match.start(kind)
        if kind == "bad":
            if value == '"':
                raise NQLError(f"unterminated string starting at position {start}")
            raise NQLError(f"unexpected character {value!r} at position {start}")
        tokens.append(_Token(kind, value, start))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def keyword(self, *words: str) -> bool:
        tok = self.peek()
        if tok is not None and tok.kind == "word" and tok.text.lower() in words:
            self.i += 1
            return True
        return False

    def expect_keyword(self, word: str, after: str) -> None:
        if not self.keyword(word):
            raise NQLError(f"expected {word.upper()} after {after} {self._where()}")

    def _where(self) -> str:
        tok = self.peek()
        return f"at position {tok.pos} (found {tok.text!r})" if tok else "at the end of the query"

    def parse(self) -> Query:
        if not self.tokens:
            raise NQLError("the query is empty")
        predicate = self.or_expr()
        order_by, descending = None, False
        if self.keyword("order"):
            self.expect_keyword("by", "ORDER")
            tok = self.peek()
            if tok is None or tok.kind != "word" or tok.text.lower() in KEYWORDS:
                raise NQLError(f"expected a field after ORDER BY {self._where()}")
            order_by = self._field(tok)
            self.i += 1
            if self.keyword("desc"):
                descending = True
            else:
                self.keyword("asc")
        if self.peek() is not None:
            raise NQLError(f"unexpected {self.peek().text!r} at position {self.peek().pos}; expected AND, OR or ORDER BY")  # type: ignore[union-attr]
        return Query(predicate, order_by, descending)

    def or_expr(self) -> Predicate:
        parts = [self.and_expr()]
        while self.keyword("or"):
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else (lambda item: any(p(item) for p in parts))

    def and_expr(self) -> Predicate:
        parts = [self.not_expr()]
        while self.keyword("and"):
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else (lambda item: all(p(item) for p in parts))

    def not_expr(self) -> Predicate:
        if self.keyword("not"):
            inner = self.not_expr()
            return lambda item: not inner(item)
        tok = self.peek()
        if tok is not None and tok.text == "(":
            self.i += 1
            inner = self.or_expr()
            closing = self.peek()
            if closing is None or closing.text != ")":
                raise NQLError(f"missing closing parenthesis for the one at position {tok.pos}")
            self.i += 1
            return inner
        return self.clause()

    def _field(self, tok: _Token) -> str:
        name = tok.text.lower()
        if name not in FIELDS:
            raise NQLError(f"unknown field {tok.text!r} at position {tok.pos}; known fields: {', '.join(FIELDS)}")
        return name

    def clause(self) -> Predicate:
        tok = self.peek()
        if tok is None:
            raise NQLError("the query ends where a condition was expected")
        if tok.kind != "word" or tok.text.lower() in KEYWORDS:
            raise NQLError(f"expected a field name at position {tok.pos}, found {tok.text!r}")
        field = self._field(tok)
        self.i += 1
        if self.keyword("is"):
            negate = self.keyword("not")
            if self.keyword("set"):
                want_set = not negate
            elif self.keyword("null"):
                want_set = negate
            else:
                raise NQLError(f"expected SET or NULL after IS {self._where()}")
            return lambda item: _is_set(item, field) == want_set
        op_tok = self.peek()
        if op_tok is None or op_tok.kind != "op":
            raise NQLError(f"expected an operator (=, <, <=, >, >=) or IS after {field!r} {self._where()}")
        self.i += 1
        value_tok = self.peek()
        if value_tok is None or value_tok.kind not in ("string", "number"):
            raise NQLError(f"expected a value after {field} {op_tok.text} {self._where()}")
        self.i += 1
        value = _coerce(field, value_tok)
        return _comparison(field, op_tok.text, value)


def _coerce(field: str, tok: _Token) -> Any:
    kind = FIELDS[field]
    raw = tok.text[1:-1] if tok.kind == "string" else tok.text
    if kind in ("user", "number"):
        if tok.kind != "number" or "." in raw:
            raise NQLError(f"{field} expects a numeric id, got {tok.text} at position {tok.pos}")
        return int(raw)
    if tok.kind != "string":
        raise NQLError(f"{field} expects a double-quoted value, got {tok.text} at position {tok.pos}")
    if kind == "status":
        if raw.lower() not in STATUS_VALUES:
            raise NQLError(f"unknown status {raw!r} at position {tok.pos}; expected one of {', '.join(STATUS_VALUES)}")
        return raw.lower()
    if kind == "priority":
        if raw.lower() not in PRIORITY_RANK:
            raise NQLError(f"unknown priority {raw!r} at position {tok.pos}; expected High, Medium or Low")
        return PRIORITY_RANK[raw.lower()]
    if kind == "date" and not _DATE.match(raw):
        raise NQLError(f'{field} expects a date like "2026-03-31", got {tok.text} at position {tok.pos}')
    if kind == "timestamp" and not (_DATE.match(raw) or _TIMESTAMP.match(raw)):
        raise NQLError(f"{field} expects a date or timestamp in double quotes, got {tok.text} at position {tok.pos}")
    return raw


def _field_value(item: dict[str, Any], field: str) -> Any:
    if field == "owner":
        return [o.get("user_id") for o in item.get("owners") or ()] or None
    if field == "team":
        return item.get("team_id")
    if field == "goal":
        return item.get("goal_id")
    if field == "priority":
        priority = item.get("priority")
        return PRIORITY_RANK.get(str(priority).lower()) if priority else None
    return item.get(field)


def _sort_key(field: str, value: Any) -> Any:
    if field == "owner":
        return min(value)
    return value


def _is_set(item: dict[str, Any], field: str) -> bool:
    return _field_value(item, field) is not None


def _comparison(field: str, op: str, value: Any) -> Predicate:
    compare: dict[str, Callable[[Any, Any], bool]] = {
        "=": lambda a, b: a == b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
    }
    fn = compare[op]
    kind = FIELDS[field]

    def predicate(item: dict[str, Any]) -> bool:
        current = _field_value(item, field)
        if current is None:
            return False
        if kind == "user":
            return any(fn(uid, value) for uid in current)
        if kind == "timestamp" and _DATE.match(value):
            current = str(current)[:10]  # a date compares with the timestamp's day
        return bool(fn(current, value))

    return predicate


def parse(text: str) -> Query:
    return _Parser(text).parse()
