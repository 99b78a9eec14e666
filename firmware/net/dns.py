"""DNS messages, the little of RFC 1035 the router needs: answering a query with one IPv4
address (the setup access point's captive responder), and asking for a name's address
(the time service, which must not block the router loop in the system resolver:
`socket.getaddrinfo` waits for lwIP's answer with the interpreter held, for seconds when the
DNS server does not answer).

Written here because MicroPython has no DNS message library; the parsing is bounded and
defensive (a malformed message is None, never an exception): the responder faces whatever
a phone or a fuzzer sends.
"""
TYPE_A = 1
TYPE_ANY = 255
CLASS_IN = 1
HEADER = 12
MAX_NAME = 255


def _name_end(buf, i):
    """Index just past the uncompressed name at buf[i], or -1 if it is malformed."""
    n = len(buf)
    total = 0
    while i < n:
        k = buf[i]
        if k == 0:
            return i + 1
        if k & 0xC0:          # compression (or a reserved label type): not in a question
            return -1
        total += k + 1
        if total > MAX_NAME:
            return -1
        i += k + 1
    return -1


def _skip_name(buf, i):
    """Index past a name in an answer, which may end in a compression pointer; -1 if bad."""
    n = len(buf)
    while i < n:
        k = buf[i]
        if k == 0:
            return i + 1
        if k & 0xC0 == 0xC0:
            return i + 2 if i + 2 <= n else -1
        if k & 0xC0:
            return -1
        i += k + 1
    return -1


def parse_query(buf):
    """(id, flags, question end, qtype, qclass) of a standard query with one question, or
    None for anything else (answers, truncated or malformed messages)."""
    if len(buf) < HEADER + 5:
        return None
    flags = buf[2] << 8 | buf[3]
    if flags & 0x8000 or (buf[4] << 8 | buf[5]) != 1:
        return None          # a response, or not exactly one question
    end = _name_end(buf, HEADER)
    if end < 0 or end + 4 > len(buf):
        return None
    qtype = buf[end] << 8 | buf[end + 1]
    qclass = buf[end + 2] << 8 | buf[end + 3]
    return buf[0] << 8 | buf[1], flags, end + 4, qtype, qclass


def answer(buf, q, ip):
    """The response to the query `buf` (parsed as `q` by parse_query) giving the address `ip`
    (4 bytes) to every name. A, ANY: that address; another type: no data (the phone then
    asks for A); another opcode: "not implemented"."""
    qid, flags, end, qtype, qclass = q
    opcode = (flags >> 11) & 0xF
    rcode = 4 if opcode else 0
    give = not rcode and qtype in (TYPE_A, TYPE_ANY) and qclass in (CLASS_IN, 255)
    # QR, the query's opcode, authoritative, its RD, RA
    out_flags = 0x8400 | (flags & 0x7900) | 0x0080 | rcode
    head = bytes((qid >> 8, qid & 0xFF, out_flags >> 8, out_flags & 0xFF, 0, 1, 0,
                  1 if give else 0, 0, 0, 0, 0))
    msg = head + bytes(buf[HEADER:end])
    if give:
        # the name by a pointer to the question's, type A, class IN, TTL 60 s, 4 bytes
        msg += b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04" + bytes(ip)
    return msg


def query(qid, name):
    """A standard recursive query for the A record of `name`."""
    out = bytearray((qid >> 8, qid & 0xFF, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0))
    for label in name.strip(".").split("."):
        b = label.encode()
        if not 0 < len(b) < 64:
            raise ValueError("bad host name: %s" % name)
        out.append(len(b))
        out += b
    out += b"\x00\x00\x01\x00\x01"
    return bytes(out)


def first_address(buf, qid):
    """The first IPv4 address in the response `buf` to query `qid`, as "a.b.c.d", or None
    (another id, an error, no address, a malformed message)."""
    n = len(buf)
    if n < HEADER or (buf[0] << 8 | buf[1]) != qid or not buf[2] & 0x80 or buf[3] & 0xF:
        return None
    qd = buf[4] << 8 | buf[5]
    an = buf[6] << 8 | buf[7]
    i = HEADER
    for _ in range(qd):
        i = _skip_name(buf, i)
        if i < 0:
            return None
        i += 4
    for _ in range(an):
        i = _skip_name(buf, i)
        if i < 0 or i + 10 > n:
            return None
        rtype = buf[i] << 8 | buf[i + 1]
        length = buf[i + 8] << 8 | buf[i + 9]
        i += 10
        if i + length > n:
            return None
        if rtype == TYPE_A and length == 4:
            return "%d.%d.%d.%d" % (buf[i], buf[i + 1], buf[i + 2], buf[i + 3])
        i += length
    return None


def is_response(buf, qid):
    """True for a DNS response to query `qid`, whatever it says (the server is there)."""
    return len(buf) >= HEADER and (buf[0] << 8 | buf[1]) == qid and bool(buf[2] & 0x80)
