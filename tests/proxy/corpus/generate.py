#!/usr/bin/env python3
"""Writes framing.txt: the framing corpus that tests/proxy/framing_corpus_test.cpp replays
against the proxy (with nginx behind it) and against nginx alone.

The families follow what public smuggling tools mutate (defparam/smuggler's exhaustive and
doubles lists, BishopFox's h2csmuggler, http-garden's mutation engine): the Transfer-Encoding
and Content-Length headers with a byte put before, inside or after the name or the value,
both of them together in either order, chunk lines, upgrades and dot-segments. The cases are
our own. Every request is followed by a second one, GET /smuggled, so that a server that
reads the first request's end elsewhere shows it.

One case per line: name, a tab, the bytes with \\r \\n \\t \\\\ and \\xHH escapes.
Run it again after changing it:  python3 tests/proxy/corpus/generate.py
"""
import os

SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n"
CHUNKED_BODY = b"5\r\nhello\r\n0\r\n\r\n"
# Bytes put around header names and values: controls, separators, obs-text (0x80, 0xa0 is a
# no-break space in Latin-1, 0xff).
BYTES = [0x00, 0x01, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1F, 0x20, 0x2C, 0x3B, 0x7F, 0x80,
         0xA0, 0xFF]
# Where the byte goes ("%c" is the byte), as smuggler's exhaustive list places it.
PLACES = {
    "prespace": b"%cTransfer-Encoding: chunked",
    "postname": b"Transfer-Encoding%c: chunked",
    "midspace": b"Transfer-Encoding:%cchunked",
    "endspace": b"Transfer-Encoding: chunked%c",
    "xprespace": b"X: y%cTransfer-Encoding: chunked",
    "endspacex": b"Transfer-Encoding: chunked%cX: y",
    "rxprespace": b"X: y\r%cTransfer-Encoding: chunked",
    "xnprespace": b"X: y\n%cTransfer-Encoding: chunked",
    "endspacerx": b"Transfer-Encoding: chunked\r%cX: y",
    "endspacexn": b"Transfer-Encoding: chunked\n%cX: y",
}
TE_VALUES = [
    b"chunked", b"Chunked", b"CHUNKED", b" chunked", b"chunked ", b"\tchunked",
    b"chunked, identity", b"identity, chunked", b"chunked, chunked", b"gzip, chunked",
    b"chunked;q=1", b"\"chunked\"", b"'chunked'", b"chunk", b"xchunked", b"chunkedx",
    b"cow, chunked", b"chunked, cow", b"cow chunked bar", b"ch\xfanked", b"chunked\x00",
    b"identity", b"", b",chunked", b"chunked,",
]
TE_NAMES = [
    b"Transfer-Encoding", b"transfer-encoding", b"TrAnSfEr-EnCoDiNg", b"Transfer_Encoding",
    b"Transfer Encoding", b" Transfer-Encoding", b"Transfer-Encoding ", b"X-Transfer-Encoding",
    b"Content-Encoding", b"Transfer-\rEncoding",
]
CL_VALUES = [
    b"5", b"05", b"00000000000000000005", b"+5", b"-5", b"5.0", b"0x5", b"5 ", b" 5", b"5, 5",
    b"5,5", b"5, 6", b"5 5", b"", b"\t5", b"5\t", b"9223372036854775807",
    b"9223372036854775808", b"18446744073709551616", b"1e1", b"\xd9\xa5",
]


def req(headers, body=b"", method=b"POST", target=b"/echo"):
    head = method + b" " + target + b" HTTP/1.1\r\nHost: a\r\n"
    for h in headers:
        head += h + b"\r\n"
    return head + b"\r\n" + body + SMUGGLED


def cases():
    # Transfer-Encoding obfuscations: the byte in every place, alone and beside a
    # Content-Length that frames the body differently (CL.TE / TE.CL).
    for place, line in PLACES.items():
        for b in BYTES:
            name = f"te_{place}_{b:02x}"
            yield name, req([line.replace(b"%c", bytes([b]))], CHUNKED_BODY)
            yield name + "_cl", req([b"Content-Length: 4", line.replace(b"%c", bytes([b]))],
                                    CHUNKED_BODY)
    for i, v in enumerate(TE_VALUES):
        yield f"te_value_{i:02d}", req([b"Transfer-Encoding: " + v], CHUNKED_BODY)
        yield f"te_value_{i:02d}_cl_first", req([b"Content-Length: 6", b"Transfer-Encoding: " + v],
                                                CHUNKED_BODY)
        yield f"te_value_{i:02d}_cl_last", req([b"Transfer-Encoding: " + v, b"Content-Length: 6"],
                                               CHUNKED_BODY)
    for i, n in enumerate(TE_NAMES):
        yield f"te_name_{i:02d}", req([n + b": chunked"], CHUNKED_BODY)
        yield f"te_name_{i:02d}_cl", req([b"Content-Length: 6", n + b": chunked"], CHUNKED_BODY)
    # Doubles: two Transfer-Encoding fields, two Content-Length fields.
    for i, (a, b) in enumerate([(b"chunked", b"identity"), (b"identity", b"chunked"),
                                (b"chunked", b"chunked"), (b"chunked", b"cow"), (b"cow", b"chunked")]):
        yield f"te_double_{i}", req([b"Transfer-Encoding: " + a, b"Transfer-Encoding: " + b],
                                    CHUNKED_BODY)
    for i, (a, b) in enumerate([(b"5", b"5"), (b"5", b"6"), (b"5", b"05"), (b"6", b"5"),
                                (b"5", b""), (b"0", b"5")]):
        yield f"cl_double_{i}", req([b"Content-Length: " + a, b"Content-Length: " + b], b"hello")
    # Content-Length values.
    for i, v in enumerate(CL_VALUES):
        yield f"cl_value_{i:02d}", req([b"Content-Length: " + v], b"hello")
    for place in ("prespace", "postname", "midspace", "endspace"):
        for b in BYTES:
            line = PLACES[place].replace(b"Transfer-Encoding", b"Content-Length")
            line = line.replace(b"chunked", b"5").replace(b"%c", bytes([b]))
            yield f"cl_{place}_{b:02x}", req([line], b"hello")
    # Chunk lines.
    chunk_bodies = {
        "plain": b"5\r\nhello\r\n0\r\n\r\n",
        "upper_hex": b"A\r\n0123456789\r\n0\r\n\r\n",
        "leading_zeros": b"0005\r\nhello\r\n0000\r\n\r\n",
        "extension": b"5;name=value\r\nhello\r\n0;x\r\n\r\n",
        "extension_quoted": b"5;name=\"v;a\\\"l\"\r\nhello\r\n0\r\n\r\n",
        "space_before_ext": b"5 ;x\r\nhello\r\n0\r\n\r\n",
        "tab_before_ext": b"5\t;x\r\nhello\r\n0\r\n\r\n",
        "space_after_size": b"5 \r\nhello\r\n0\r\n\r\n",
        "space_before_size": b" 5\r\nhello\r\n0\r\n\r\n",
        "bare_lf_size": b"5\nhello\n0\n\n",
        "bare_lf_after_data": b"5\r\nhello\n0\r\n\r\n",
        "bare_lf_last": b"5\r\nhello\r\n0\n\n",
        "bare_cr_size": b"5\rhello\r\n0\r\n\r\n",
        "vt_size": b"5\x0b\r\nhello\r\n0\r\n\r\n",
        "hex_prefix": b"0x5\r\nhello\r\n0\r\n\r\n",
        "negative": b"-5\r\nhello\r\n0\r\n\r\n",
        "plus": b"+5\r\nhello\r\n0\r\n\r\n",
        "overflow": b"10000000000000005\r\nhello\r\n0\r\n\r\n",
        "size_too_small": b"3\r\nhello\r\n0\r\n\r\n",
        "size_too_big": b"7\r\nhello\r\n0\r\n\r\n",
        "no_crlf_after_data": b"5\r\nhelloXX0\r\n\r\n",
        "trailer": b"5\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n",
        "trailer_bare_lf": b"5\r\nhello\r\n0\r\nX-Trailer: t\n\n",
        "trailer_obs_fold": b"5\r\nhello\r\n0\r\nX-Trailer: t\r\n folded\r\n\r\n",
        "trailer_content_length": b"5\r\nhello\r\n0\r\nContent-Length: 50\r\n\r\n",
        "no_last_chunk": b"5\r\nhello\r\n",
        "zero_then_data": b"0\r\n\r\n5\r\nhello\r\n",
        "empty_size": b"\r\nhello\r\n0\r\n\r\n",
        "nul_in_data": b"5\r\nhe\x00lo\r\n0\r\n\r\n",
    }
    for name, body in chunk_bodies.items():
        yield f"chunk_{name}", req([b"Transfer-Encoding: chunked"], body)
    # Request lines and heads around framing.
    yield "get_with_cl_body", req([b"Content-Length: 5"], b"hello", method=b"GET")
    yield "get_with_chunked_body", req([b"Transfer-Encoding: chunked"], CHUNKED_BODY, method=b"GET")
    yield "http10_chunked", (b"POST /echo HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                             + CHUNKED_BODY + SMUGGLED)
    yield "http10_cl", b"POST /echo HTTP/1.0\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
    yield "leading_crlf", b"\r\n" + req([b"Content-Length: 5"], b"hello")
    yield "lf_only_head", b"POST /echo HTTP/1.1\nHost: a\nContent-Length: 5\n\nhello" + SMUGGLED
    yield "space_in_header_name", req([b"Content Length: 5"], b"hello")
    yield "no_body_framing", req([], b"")
    # Upgrades (h2csmuggler's requests and their neighbours).
    upgrades = {
        "h2c": [b"Connection: Upgrade, HTTP2-Settings", b"Upgrade: h2c",
                b"HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA"],
        "h2c_upper": [b"Connection: Upgrade", b"Upgrade: H2C", b"HTTP2-Settings: AAMAAABk"],
        "h2c_no_settings": [b"Connection: Upgrade", b"Upgrade: h2c"],
        "h2c_then_websocket": [b"Connection: Upgrade", b"Upgrade: h2c, websocket"],
        "websocket_then_h2c": [b"Connection: Upgrade", b"Upgrade: websocket, h2c"],
        "h2c_without_connection": [b"Upgrade: h2c", b"HTTP2-Settings: AAMAAABk"],
        "connection_without_upgrade": [b"Connection: Upgrade"],
        "settings_alone": [b"HTTP2-Settings: AAMAAABk"],
        "h2c_with_cl": [b"Connection: Upgrade", b"Upgrade: h2c", b"Content-Length: 5"],
        "http2_token": [b"Connection: Upgrade", b"Upgrade: HTTP/2.0"],
    }
    for name, headers in upgrades.items():
        body = b"hello" if name == "h2c_with_cl" else b""
        yield f"upgrade_{name}", req(headers, body, method=b"GET", target=b"/public/")
    yield "upgrade_prior_knowledge_preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
    # Dot-segments (under route "/": nothing may climb above the root, nothing be read two
    # ways; nginx alone resolves them itself, merging slashes first: "/a//../b" is "/b").
    for i, target in enumerate([b"/a/../b", b"/a/./b", b"/a/%2e%2e/b", b"/a/.%2e/b", b"/a/%2e./b",
                                b"/a/%2E%2E/b", b"/a/..%2fb", b"/a/..%2Fb", b"/a/..%5cb",
                                b"/a/..\\b", b"/..", b"/../b", b"/a/../../b", b"/%2e%2e/b",
                                b"/a/%252e%252e/b", b"/a/%2fb", b"/a//../b", b"/a/b/..",
                                b"/a/%zz", b"/a/b?x=/../..%2f"]):
        yield f"dot_{i:02d}", req([], b"", method=b"GET", target=target)


def escape(data):
    out = []
    for c in data:
        if c == 0x0D:
            out.append("\\r")
        elif c == 0x0A:
            out.append("\\n")
        elif c == 0x09:
            out.append("\\t")
        elif c == 0x5C:
            out.append("\\\\")
        elif 0x20 <= c < 0x7F:
            out.append(chr(c))
        else:
            out.append(f"\\x{c:02x}")
    return "".join(out)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    seen = set()
    with open(os.path.join(here, "framing.txt"), "w", encoding="ascii") as f:
        f.write("# Generated by generate.py (see there): name<TAB>bytes, escaped.\n")
        for name, data in cases():
            assert name not in seen, name
            seen.add(name)
            f.write(f"{name}\t{escape(data)}\n")
    print(f"{len(seen)} cases")


if __name__ == "__main__":
    main()
