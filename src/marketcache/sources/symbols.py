"""Symbol normalization over an exchange's markets: pure, precomputed, cheap.

`btcusdt`, `BTC-USDT`, `btc/usdt`, `BTC_USDT`, ` BTC/USDT ` and the market id
`BTCUSDT` all resolve to the unified `BTC/USDT`. Resolution is a few dictionary
look-ups on a table built once from the markets; it runs on every request.

Input that cannot be a symbol at all (empty, longer than `MAX_SYMBOL_LENGTH`,
characters outside letters, digits and `/ - _ : .` and spaces) raises
`InvalidParameter("symbol", ...)` (422); a well-formed symbol that is not a market
raises `UnknownSymbol` (404) with up to `MAX_SUGGESTIONS` close matches.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping

from marketcache.errors import InvalidParameter, UnknownSymbol
from marketcache.models import Market

MAX_SYMBOL_LENGTH = 40
MAX_SUGGESTIONS = 5
_SHAPE = re.compile(r"[A-Za-z0-9/_\-:. ]+")
_SEPARATORS = re.compile(r"[\s_\-]+")
_ANY_SEPARATOR = re.compile(r"[\s/_\-:.]+")


def _compact(text: str) -> str:
    """Upper case, every separator removed: `btc/usdt` → `BTCUSDT`."""
    return _ANY_SEPARATOR.sub("", text).upper()


class SymbolIndex:
    """A lookup table from every accepted spelling of a market to its unified symbol."""

    __slots__ = ("_by_compact", "_candidates", "_exact", "_markets", "_symbols")

    def __init__(self, markets: Iterable[Market]) -> None:
        self._markets: dict[str, Market] = {m.symbol: m for m in markets}
        self._symbols = tuple(sorted(self._markets))
        exact: dict[str, str] = {}
        compact: dict[str, str | None] = {}
        for market in self._markets.values():
            for spelling in (market.symbol, market.id):
                exact[spelling] = market.symbol
                exact[spelling.upper()] = market.symbol
                key = _compact(spelling)
                # Two markets may share a compact spelling (`AB/CD` and `ABC/D`);
                # such a spelling is ambiguous and resolves to neither.
                if compact.get(key, market.symbol) != market.symbol:
                    compact[key] = None
                else:
                    compact[key] = market.symbol
        self._exact = exact
        self._by_compact = compact
        self._candidates = [key for key, symbol in compact.items() if symbol is not None]

    @property
    def markets(self) -> Mapping[str, Market]:
        """The markets by unified symbol."""
        return self._markets

    @property
    def symbols(self) -> tuple[str, ...]:
        """Every unified symbol, sorted."""
        return self._symbols

    def __len__(self) -> int:
        return len(self._markets)

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._markets

    def resolve(self, raw: str) -> str:
        """The unified symbol `raw` spells; raises `UnknownSymbol` or `InvalidParameter`."""
        if not isinstance(raw, str):
            raise InvalidParameter("symbol", "must be a string")
        found = self._exact.get(raw)
        if found is not None:
            return found
        text = raw.strip()
        if not text or len(text) > MAX_SYMBOL_LENGTH or _SHAPE.fullmatch(text) is None:
            raise InvalidParameter(
                "symbol",
                f"not a symbol: {text[:MAX_SYMBOL_LENGTH]!r} (letters, digits and / - _ : . "
                f"only, at most {MAX_SYMBOL_LENGTH} characters)",
            )
        upper = text.upper()
        found = self._exact.get(upper) or self._exact.get(_SEPARATORS.sub("/", upper))
        if found is None:
            found = self._by_compact.get(_compact(upper))
        if found is None:
            raise UnknownSymbol(text, self.suggest(text))
        return found

    def suggest(self, text: str, limit: int = MAX_SUGGESTIONS) -> list[str]:
        """Up to `limit` unified symbols close to `text` (error path only)."""
        wanted = _compact(text)
        close = difflib.get_close_matches(wanted, self._candidates, n=limit * 2, cutoff=0.6)
        suggestions: list[str] = []
        for key in close:
            symbol = self._by_compact[key]
            if symbol is not None and symbol not in suggestions:
                suggestions.append(symbol)
        return suggestions[:limit]
