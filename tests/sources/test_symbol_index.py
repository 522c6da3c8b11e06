"""Symbol normalization over a synthetic market list."""

from __future__ import annotations

import pytest

from marketcache.errors import InvalidParameter, UnknownSymbol
from marketcache.models import Market
from marketcache.sources.symbols import MAX_SUGGESTIONS, MAX_SYMBOL_LENGTH, SymbolIndex


def market(base: str, quote: str, market_id: str | None = None) -> Market:
    return Market(f"{base}/{quote}", market_id or f"{base}{quote}", base, quote)


@pytest.fixture
def index() -> SymbolIndex:
    return SymbolIndex(
        [
            market("BTC", "USDT"),
            market("ETH", "USDT"),
            market("ETH", "BTC"),
            market("SOL", "USDT"),
            market("1INCH", "USDT"),
            market("BTCDOM", "USDT"),
            # a compact spelling shared by two markets: AB/CD and ABC/D
            market("AB", "CD", "AB_CD"),
            market("ABC", "D", "ABC_D"),
        ]
    )


@pytest.mark.parametrize(
    "raw",
    [
        "BTC/USDT",
        "btcusdt",
        "BTC-USDT",
        "btc/usdt",
        "BTC_USDT",
        " BTC/USDT ",
        "BTCUSDT",
        "btc usdt",
    ],
)
def test_spellings_resolve_to_the_unified_symbol(index: SymbolIndex, raw: str) -> None:
    assert index.resolve(raw) == "BTC/USDT"


def test_market_id_resolves_even_when_it_differs_from_the_symbol() -> None:
    index = SymbolIndex([Market("BTC/USD", "XXBTZUSD", "BTC", "USD")])
    assert index.resolve("XXBTZUSD") == "BTC/USD"
    assert index.resolve("xxbtzusd") == "BTC/USD"
    assert index.resolve("btc-usd") == "BTC/USD"


def test_digits_in_a_base_are_kept(index: SymbolIndex) -> None:
    assert index.resolve("1inch-usdt") == "1INCH/USDT"


def test_ambiguous_compact_spelling_needs_its_separator(index: SymbolIndex) -> None:
    assert index.resolve("ab/cd") == "AB/CD"
    assert index.resolve("ABC-D") == "ABC/D"
    with pytest.raises(UnknownSymbol):
        index.resolve("abcd")


def test_unknown_symbol_carries_close_matches(index: SymbolIndex) -> None:
    with pytest.raises(UnknownSymbol) as caught:
        index.resolve("BTC/USDC")
    assert caught.value.symbol == "BTC/USDC"
    assert caught.value.suggestions[0] == "BTC/USDT"
    assert 1 <= len(caught.value.suggestions) <= MAX_SUGGESTIONS
    assert caught.value.status == 404


def test_unknown_symbol_far_from_everything_has_no_suggestions(index: SymbolIndex) -> None:
    with pytest.raises(UnknownSymbol) as caught:
        index.resolve("QQQQQQ/ZZZZZZ")
    assert caught.value.suggestions == []


def test_suggestions_are_capped() -> None:
    many = SymbolIndex([market(f"BT{c}", "USDT") for c in "ABCDEFGHIJ"])
    with pytest.raises(UnknownSymbol) as caught:
        many.resolve("BTZ/USDT")
    assert len(caught.value.suggestions) == MAX_SUGGESTIONS


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "BTC/USDT;DROP",
        "<script>",
        "BTC\x00USDT",
        "€/USDT",
        "A" * (MAX_SYMBOL_LENGTH + 1),
    ],
)
def test_input_that_cannot_be_a_symbol_is_an_invalid_parameter(
    index: SymbolIndex, raw: str
) -> None:
    with pytest.raises(InvalidParameter) as caught:
        index.resolve(raw)
    assert caught.value.field == "symbol"
    assert len(caught.value.message) < 200


def test_non_string_is_an_invalid_parameter(index: SymbolIndex) -> None:
    with pytest.raises(InvalidParameter):
        index.resolve(["BTC/USDT"])  # type: ignore[arg-type]


def test_index_exposes_markets_and_symbols(index: SymbolIndex) -> None:
    assert len(index) == 8
    assert "ETH/BTC" in index
    assert index.markets["ETH/BTC"].id == "ETHBTC"
    assert index.symbols == tuple(sorted(index.symbols))
