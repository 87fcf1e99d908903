#!/usr/bin/env python3
"""Reads a ZIP with Python's zipfile (the reader the tests trust besides `unzip -t`) and prints, as JSON,
what an archive test checks: every member's name, whether it is a folder, its size, the SHA-256 of its
bytes, its local header offset, the UTF-8 flag (general-purpose bit 11), the compression method, and
(reading a member to its end checks its CRC-32: a mismatch raises BadZipFile). Usage: zip-check.py FILE"""
import hashlib
import json
import sys
import zipfile

with zipfile.ZipFile(sys.argv[1]) as z:
    members = []
    for info in z.infolist():
        h = hashlib.sha256()
        with z.open(info) as f:
            while True:
                chunk = f.read(1 << 20)
                if not chunk:
                    break
                h.update(chunk)
        members.append({
            "name": info.filename,
            "dir": info.is_dir(),
            "size": info.file_size,
            "sha256": h.hexdigest(),
            "offset": info.header_offset,
            "utf8": bool(info.flag_bits & 0x800),
            "method": info.compress_type,
        })
    print(json.dumps({"members": members}))
