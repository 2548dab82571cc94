"""JUnit XML for `check --junit`: one test case per capture, as GitLab, GitHub and Jenkins show it
(a change is a failure, an unreadable capture or a crash an error, a capture without golden file
skipped). Every text is shown (`icetrace.output.shown`): a control character in a file name, Call-ID
or diff is written as an escape, since XML 1.0 has no way to hold it and the file must stay well-formed."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from icetrace.output import shown


@dataclass
class Case:
    capture: str
    status: str  # ok, changed, error, new, updated
    detail: str
    seconds: float


def junit_xml(cases: list[Case]) -> bytes:
    failures = sum(c.status == "changed" for c in cases)
    errors = sum(c.status == "error" for c in cases)
    skipped = sum(c.status == "new" for c in cases)
    total = f"{sum(c.seconds for c in cases):.3f}"
    counts = {"tests": str(len(cases)), "failures": str(failures), "errors": str(errors), "skipped": str(skipped)}
    root = ET.Element("testsuites", {"name": "icetrace check", **counts, "time": total})
    suite = ET.SubElement(root, "testsuite", {"name": "icetrace check", **counts, "time": total})
    for c in cases:
        folder, _, name = c.capture.replace("\\", "/").rpartition("/")
        detail = shown(c.detail)
        attributes = {"classname": shown(folder) or ".", "name": shown(name), "file": shown(c.capture)}
        case = ET.SubElement(suite, "testcase", {**attributes, "time": f"{c.seconds:.3f}"})
        if c.status == "changed":
            first = detail.splitlines()[0] if detail else "changed"
            ET.SubElement(case, "failure", {"message": first, "type": "changed"}).text = detail
        elif c.status == "error":
            first = detail.splitlines()[0] if detail else "error"
            ET.SubElement(case, "error", {"message": first, "type": "error"}).text = detail
        elif c.status == "new":
            ET.SubElement(case, "skipped", {"message": detail})
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"
