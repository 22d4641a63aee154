"""Render asset results (fetch, mirror): one line per asset, or a JSON document."""

from __future__ import annotations

import json

from ..cards.report import counted, github_command
from ..diagnostics import printable_lines
from ..durable import JSONObject
from .mirror import AssetResult


def render_assets(results: list[AssetResult], fmt: str) -> str:
    """One line per asset (text), a JSON document, or GitHub workflow commands (one error per failed asset)."""
    if fmt == "json":
        return json.dumps({"assets": [_asset_dict(r) for r in results], "summary": _asset_summary(results)},
                          indent=2, sort_keys=True)
    if fmt == "github":
        return _github(results)
    lines = []
    for r in results:
        where = f"{r.task.card}#asset/{r.task.index}"
        if r.outcome is not None:
            o = r.outcome
            how = {"present": "already in store", "copied": f"copied from {o.source}",
                   "downloaded": f"downloaded from {o.source}", "uploaded": f"uploaded to {o.source}"}[o.action]
            if o.resumed_from:
                how += f" (resumed at {o.resumed_from:,} bytes)"
            if o.proof:  # a mirror's: what its server confirmed (a blob already there says so itself)
                how = o.proof if o.action == "present" else f"{how}: {o.proof}"
            how += "".join(f"; bad mirror skipped: {bad}" for bad in o.bad_mirrors)
            lines.append(f"ok      {where}  {r.task.digest[:12]}  {o.size:>14,} B  {how}")
        else:
            lines.append(f"FAILED  {where}  {r.task.digest[:12] or '-':12}  [{r.kind}] {r.error}")
    s = _asset_summary(results)
    lines.append(f"{counted(s['assets'], 'asset')}: {s['ok']} ok, {s['failed']} failed, "
                 f"{s['transferred-bytes']:,} bytes transferred")
    return printable_lines("\n".join(lines))


def _github(results: list[AssetResult]) -> str:
    # the card's path and the server's error text are anyone's: github_command escapes both
    out = [github_command("error", f"asset {r.task.index}: [{r.kind}] {r.error}", file=r.task.card,
                          title=f"asset {r.kind or 'failure'}") for r in results if not r.ok]
    s = _asset_summary(results)
    out.append(github_command("notice", f"{counted(s['assets'], 'asset')}: {s['ok']} ok, {s['failed']} failed, "
                                        f"{s['transferred-bytes']:,} bytes transferred"))
    return "\n".join(out)


def _asset_dict(r: AssetResult) -> JSONObject:
    o = r.outcome
    return {"card": r.task.card, "index": r.task.index, "link": r.task.link, "sha256": r.task.digest,
            "ok": r.ok, "error": r.error, "kind": r.kind,
            "action": o.action if o else None, "size": o.size if o else None,
            "source": o.source if o else None, "transferred": o.transferred if o else 0,
            "resumed-from": o.resumed_from if o else 0, "proof": o.proof if o else None,
            "bad-mirrors": list(o.bad_mirrors) if o else []}


def _asset_summary(results: list[AssetResult]) -> dict[str, int]:
    return {"assets": len(results), "ok": sum(r.ok for r in results),
            "failed": sum(not r.ok for r in results),
            "transferred-bytes": sum(r.outcome.transferred for r in results if r.outcome)}
