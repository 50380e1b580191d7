"""Reads a rollcall output folder the way its users do, with h5py and openpyxl, and prints
what it found as JSON for tests/reports.rs to check against docs/FORMAT.md and the run.

    python inspect_outputs.py OUT_DIR
"""
import json
import sys
from pathlib import Path

import h5py
import numpy as np
import openpyxl


def h5_value(v):
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, np.generic):
        return v.item()
    return v


def walk_h5(path):
    objects = {}

    def visit(name, obj):
        entry = {"attrs": {k: h5_value(v) for k, v in obj.attrs.items()}}
        if isinstance(obj, h5py.Dataset):
            data = obj[()]  # read every dataset in full
            entry["kind"] = "dataset"
            entry["shape"] = list(obj.shape)
            entry["fields"] = list(obj.dtype.names or [])
            entry["rows"] = int(data.shape[0]) if data.shape else 1
        else:
            entry["kind"] = "group"
        objects["/" + name] = entry

    with h5py.File(path, "r") as f:
        objects["/"] = {"kind": "group", "attrs": {k: h5_value(v) for k, v in f.attrs.items()}}
        f.visititems(visit)
        attendance = [
            {"student_id": r["student_id"].decode(), "status": r["status"].decode(), "frames_seen": int(r["frames_seen"])}
            for r in f["attendance"][()]
        ]
        hosts = [
            {"rank": int(r["rank"]), "host": r["host"].decode(), "cpu": r["cpu"].decode(), "memory_bytes": int(r["memory_bytes"])}
            for r in f["provenance/ranks"][()]
        ] if "provenance" in f else []
    return objects, attendance, hosts


def read_xlsx(path):
    wb = openpyxl.load_workbook(path)
    sheets = {}
    for ws in wb.worksheets:
        sheets[ws.title] = {
            "rows": [[c if c is None or isinstance(c, (int, float, str)) else str(c) for c in row] for row in ws.iter_rows(values_only=True)],
            "charts": len(ws._charts),
            "freeze": ws.freeze_panes,
            "conditional_formats": len(ws.conditional_formatting),
        }
    return sheets


out = Path(sys.argv[1])
found = {"xlsx": read_xlsx(out / "attendance.xlsx")}
if (out / "attendance.h5").exists():  # `rollcall report` folders hold no HDF5 file
    found["h5"], found["h5_attendance"], found["h5_hosts"] = walk_h5(out / "attendance.h5")
print(json.dumps(found, default=str))
