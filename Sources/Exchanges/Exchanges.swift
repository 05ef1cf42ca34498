// Exchanges: Binance and Kraken (v1, v2) WebSocket framing: subscribe messages, trade parsing, trade ids.
