#!/usr/bin/env python3
"""Writes the bundled fixture frames (deterministic: fixed seed, fixed clock). One frame per line, exactly the
bytes an exchange sends (compact JSON, keys in the exchange's order). Shapes: docs/k2-platform.md §1.

    python3 scripts/make-fixtures.py          # rewrites fixtures/binance/combined-trades.jsonl, fixtures/kraken/*.jsonl
"""
import json
import os
import random

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
rng = random.Random(20240209)


def compact(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def write(path, lines):
    path = os.path.join(ROOT, path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for line in lines:
            f.write(line + "\n")
    print(f"{path}: {len(lines)} frames")


def binance():
    """Combined-stream frames for BTCUSDT and ETHUSDT; trade ids consecutive per symbol; some without b/a/M."""
    state = {"BTCUSDT": [3412000100, 42150.50, 0.0], "ETHUSDT": [1298000500, 2431.17, 0.0]}
    order_ids = {"BTCUSDT": 24950000000, "ETHUSDT": 17900000000}
    clock = 1707472723000
    lines = []
    for _ in range(240):
        symbol = "BTCUSDT" if rng.random() < 0.6 else "ETHUSDT"
        clock += rng.randint(0, 40)
        s = state[symbol]
        s[0] += 1
        s[1] = round(s[1] * (1 + rng.uniform(-0.0002, 0.0002)), 2)
        qty = round(rng.uniform(0.0001, 0.5 if symbol == "BTCUSDT" else 5.0), 5 if symbol == "BTCUSDT" else 4)
        trade_time = clock - rng.randint(0, 5)
        event = {"e": "trade", "E": clock, "s": symbol, "t": s[0],
                 "p": f"{s[1]:.2f}", "q": f"{qty:.5f}" if symbol == "BTCUSDT" else f"{qty:.4f}"}
        if rng.random() < 0.7:   # buyer/seller order ids: absent from some frames (Binance dropped them in 2025)
            order_ids[symbol] += rng.randint(1, 40)
            event["b"] = order_ids[symbol]
            event["a"] = order_ids[symbol] - rng.randint(1, 500)
        event["T"] = trade_time
        event["m"] = rng.random() < 0.5
        if rng.random() < 0.8:
            event["M"] = True
        stream = symbol.lower() + "@trade"
        lines.append(compact({"stream": stream, "data": event}))
    write("fixtures/binance/combined-trades.jsonl", lines)


def kraken_v1():
    """Kraken WebSocket v1: systemStatus, subscriptionStatus per pair, trade arrays (some with several trades), heartbeats."""
    lines = [compact({"connectionID": 8628615390848610000, "event": "systemStatus", "status": "online", "version": "1.9.1"})]
    channels = {"XBT/USD": 119930888, "ETH/USD": 119930881}
    for pair, channel in channels.items():
        lines.append(compact({"channelID": channel, "channelName": "trade", "event": "subscriptionStatus",
                              "pair": pair, "status": "subscribed", "subscription": {"name": "trade"}}))
    prices = {"XBT/USD": 42140.1, "ETH/USD": 2430.55}
    clock = 1707472723.100000
    for i in range(120):
        if i % 9 == 8:
            lines.append(compact({"event": "heartbeat"}))
            continue
        pair = "XBT/USD" if rng.random() < 0.6 else "ETH/USD"
        trades = []
        for _ in range(1 if rng.random() < 0.7 else rng.randint(2, 4)):
            clock += rng.uniform(0.0, 0.4)
            prices[pair] = round(prices[pair] * (1 + rng.uniform(-0.0003, 0.0003)), 1 if pair == "XBT/USD" else 2)
            trades.append([f"{prices[pair]:.5f}", f"{rng.uniform(0.00001, 2.0):.8f}", f"{clock:.6f}",
                           rng.choice("bs"), rng.choice("lm"), ""])
        lines.append(compact([channels[pair], trades, "trade", pair]))
    write("fixtures/kraken/v1-frames.jsonl", lines)


def kraken_v2():
    """Kraken WebSocket v2, channel trade: status, subscribe acks, a snapshot, updates with trade_id, heartbeats."""
    lines = [compact({"channel": "status", "type": "update", "data": [
        {"version": "2.0.4", "system": "online", "api_version": "v2", "connection_id": 17471227934912346000}]})]
    ids = {"BTC/USD": 81234500, "ETH/USD": 50876300}
    prices = {"BTC/USD": 42140.1, "ETH/USD": 2430.55}
    seconds = 1707472723.100000

    def stamp(t):
        import datetime
        return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def trade(symbol):
        nonlocal seconds
        seconds += rng.uniform(0.0, 0.4)
        ids[symbol] += 1
        prices[symbol] = round(prices[symbol] * (1 + rng.uniform(-0.0003, 0.0003)), 1 if symbol == "BTC/USD" else 2)
        return {"symbol": symbol, "side": rng.choice(["buy", "sell"]), "price": prices[symbol],
                "qty": round(rng.uniform(0.00001, 2.0), 8), "ord_type": rng.choice(["limit", "market"]),
                "trade_id": ids[symbol], "timestamp": stamp(seconds)}

    for symbol in ids:
        lines.append(compact({"method": "subscribe", "result": {"channel": "trade", "snapshot": True, "symbol": symbol},
                              "success": True, "time_in": stamp(seconds), "time_out": stamp(seconds + 0.0001)}))
        lines.append(compact({"channel": "trade", "type": "snapshot", "data": [trade(symbol) for _ in range(3)]}))
    for i in range(100):
        if i % 10 == 9:
            lines.append(compact({"channel": "heartbeat"}))
            continue
        symbol = "BTC/USD" if rng.random() < 0.6 else "ETH/USD"
        lines.append(compact({"channel": "trade", "type": "update",
                              "data": [trade(symbol) for _ in range(1 if rng.random() < 0.75 else rng.randint(2, 3))]}))
    write("fixtures/kraken/v2-frames.jsonl", lines)


if __name__ == "__main__":
    binance()
    kraken_v1()
    kraken_v2()
