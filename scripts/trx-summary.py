#!/usr/bin/env python3
"""Prints each failed test of the TRX reports in a directory with the first lines of its message, then
one totals line: "<passed> passed, <failed> failed, <skipped> skipped"."""
import glob
import sys
import xml.etree.ElementTree as ET

NS = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
totals = {"passed": 0, "failed": 0, "skipped": 0}

for report in sorted(glob.glob(f"{sys.argv[1]}/*.trx")):
    root = ET.parse(report).getroot()
    counters = root.find("t:ResultSummary/t:Counters", NS)
    if counters is not None:
        totals["passed"] += int(counters.get("passed", 0))
        totals["failed"] += sum(int(counters.get(k, 0)) for k in ("failed", "error", "timeout"))
        totals["skipped"] += int(counters.get("notExecuted", 0))
    for result in root.iterfind("t:Results/t:UnitTestResult", NS):
        if result.get("outcome") not in ("Failed", "Error", "Timeout"):
            continue
        message = result.findtext("t:Output/t:ErrorInfo/t:Message", default="", namespaces=NS)
        print(f"FAILED {result.get('testName')} ({result.get('duration')})")
        for line in message.strip().splitlines()[:12]:
            print(f"    {line}")

print(f"{totals['passed']} passed, {totals['failed']} failed, {totals['skipped']} skipped")
