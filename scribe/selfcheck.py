"""Self-check: prove, by trying, that this process cannot reach the network, and that models and store are sound.

`run_selfcheck(settings, passphrase=None, db_path=None) -> SelfCheck`. The network probes are real calls of
every path the guard blocks (connect, connect_ex, sendto, sendmsg, `_socket` itself, each lookup), each of which
must be refused by Scribe's guard, and each built so that it cannot leave the process even if it were not.
Models are hashed against their manifests; the store (when a passphrase is given) has every page's HMAC, its
b-tree and its audit chain checked.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["SelfCheck", "run_selfcheck"]


@dataclass
class SelfCheck:
    network_blocked: bool
    dns_blocked: bool
    guard_installed: bool
    offline_env: bool
    models_verified: bool
    models: dict[str, str]
    providers: list[str]
    provider_in_use: str
    store_integrity: Any                 # dict of results, or "locked" / "absent"
    details: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        store_ok = not isinstance(self.store_integrity, dict) or (
            self.store_integrity.get("pages_ok") and self.store_integrity.get("audit_ok"))
        return bool(self.network_blocked and self.dns_blocked and self.models_verified and store_ok)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["ok"] = self.ok
        return d


def _models(settings) -> tuple[bool, dict[str, str]]:
    from .errors import ModelError
    from .modelstore import verify_model
    out: dict[str, str] = {}
    names = [settings.asr_model, settings.note_model]
    # the speaker encoder when speaker labels are wanted: "on", or "auto" with it installed (a tampered one must
    # show here, not only as unlabelled transcripts)
    from .speakers.encoder import DEFAULT_SPEAKER_MODEL
    mode = str(getattr(settings, "speakers", "auto"))
    installed = (Path(settings.models_dir) / DEFAULT_SPEAKER_MODEL / "manifest.json").exists()
    if mode == "on" or (mode == "auto" and installed):
        names.append(DEFAULT_SPEAKER_MODEL)
    for name in dict.fromkeys(names):
        try:
            verify_model(settings.models_dir, name)
            out[name] = "verified"
        except ModelError as e:
            out[name] = "FAILED: " + str(e)[:160]
    return all(v == "verified" for v in out.values()), out


def run_selfcheck(settings, passphrase: str | None = None, db_path: Path | None = None) -> SelfCheck:
    from . import privacy
    from .providers import available_providers, preferred_providers
    t0 = time.perf_counter()
    net = privacy.probe_network()
    models_ok, models = _models(settings)
    try:
        avail = available_providers()
        in_use = preferred_providers(settings.provider, avail).providers[0]
    except Exception as e:  # onnxruntime missing or broken: report, do not crash the check
        avail, in_use = [], f"unavailable ({e.__class__.__name__})"
    store: Any
    path = Path(db_path) if db_path else settings.db_path
    if not path.exists():
        store = "absent"
    elif not passphrase:
        store = "locked"
    else:
        from .app import ScribeApp
        settings.autolock_minutes = 0
        app = ScribeApp(settings, db_path=path)
        app.unlock(passphrase)
        try:
            store = app.integrity()
        finally:
            app.lock("selfcheck")
    return SelfCheck(network_blocked=bool(net["network_blocked"]), dns_blocked=bool(net["dns_blocked"]),
                     guard_installed=privacy.guard_installed(), offline_env=all(privacy.offline_env_ok().values()),
                     models_verified=models_ok, models=models, providers=avail, provider_in_use=in_use,
                     store_integrity=store, details={"network": net["network_detail"], "dns": net["dns_detail"],
                              "paths": ", ".join(f"{k}: {v}" for k, v in net.get("paths", {}).items())},
                     seconds=round(time.perf_counter() - t0, 3))
