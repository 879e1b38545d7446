"""Saved models belong to the browser that saved them: ownership, delete, quotas, and
saves that a kill cannot leave half done."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.digits.quota import Quota
from app.digits.store import LOADED_MODELS, ModelRefused, ModelStore
from app.main import create_app
from nn_core.model import Network
from tests.app.wsutil import next_json

ROOT = Path(__file__).resolve().parents[2]
ALICE, BOB = "a" * 32, "b" * 32
TAKEN = "A model named 'x' already belongs to someone else: pick another name"


def small(seed: int = 0) -> Network:
    return Network([784, 8, 10], activation="relu", output_activation="softmax", seed=seed)


def file_size(net: Network) -> int:
    buf = io.BytesIO()
    net.save_to(buf, {"accuracy": 0.5})
    return len(buf.getvalue())


def store_with(tmp_path: Path, **quota: int) -> ModelStore:
    return ModelStore(tmp_path, quota=dataclasses.replace(Quota.of(Settings()), **quota))


def test_only_the_owner_replaces_or_deletes_a_model(tmp_path: Path) -> None:
    store = store_with(tmp_path)
    store.save("x", small(0), {"accuracy": 0.1}, ALICE)
    first = (tmp_path / "models" / "x.npz").read_bytes()
    with pytest.raises(ModelRefused) as refused:
        store.save("x", small(1), {"accuracy": 0.9}, BOB)
    assert str(refused.value) == TAKEN
    with pytest.raises(ModelRefused, match="only the browser that saved it can delete it"):
        store.delete("x", BOB)
    assert (tmp_path / "models" / "x.npz").read_bytes() == first  # untouched by Bob
    assert store.get("x").metadata["accuracy"] == 0.1
    store.save("x", small(1), {"accuracy": 0.9}, ALICE)  # Alice replaces her own
    assert store.get("x").metadata["accuracy"] == 0.9
    store.delete("x", ALICE)
    assert "x" not in store.names()
    store.save("x", small(2), {}, BOB)  # a deleted name is free again
    assert [m["name"] for m in store.list(BOB) if m["yours"]] == ["x"]
    assert not any(m["yours"] for m in store.list(ALICE))


def test_only_a_hash_of_the_token_is_kept(tmp_path: Path) -> None:
    store = store_with(tmp_path)
    store.save("mine", small(), {}, ALICE)
    kept = b"".join(p.read_bytes() for p in (tmp_path / "models").iterdir() if p.is_file())
    assert ALICE.encode() not in kept
    owner = json.loads((tmp_path / "models" / "mine.owner").read_text())["owner"]
    assert owner == hashlib.sha256(ALICE.encode()).hexdigest()


def test_the_shipped_model_cannot_be_replaced_or_deleted(tmp_path: Path) -> None:
    store = store_with(tmp_path)
    with pytest.raises(ModelRefused, match="shipped model and cannot be replaced"):
        store.save("mnist-mlp", small(), {}, ALICE)
    with pytest.raises(ModelRefused, match="shipped model and cannot be deleted"):
        store.delete("mnist-mlp", ALICE)
    assert store.get("mnist-mlp").builtin


def test_an_owner_may_keep_so_many_models(tmp_path: Path) -> None:
    store = store_with(tmp_path, owner_models=2)
    store.save("a1", small(), {}, ALICE)
    store.save("a2", small(), {}, ALICE)
    with pytest.raises(ModelRefused) as refused:
        store.save("a3", small(), {}, ALICE)
    assert str(refused.value) == (
        "You have saved 2 models, the most one browser may keep (2): delete one of yours first"
    )
    store.save("a2", small(1), {}, ALICE)  # replacing one of hers still fits
    store.save("b1", small(), {}, BOB)  # the quota is Alice's, not everyone's
    store.delete("a1", ALICE)
    store.save("a3", small(), {}, ALICE)  # a delete makes room
    assert sorted(store.owned_by(hashlib.sha256(ALICE.encode()).hexdigest())) == ["a2", "a3"]


def test_an_owner_may_keep_so_many_bytes(tmp_path: Path) -> None:
    size = file_size(small())
    store = store_with(tmp_path, owner_bytes=int(size * 2.5))
    store.save("a1", small(), {}, ALICE)
    store.save("a2", small(), {}, ALICE)
    with pytest.raises(ModelRefused, match=r"^Your saved models would take .* MB, over the .* MB"):
        store.save("a3", small(), {}, ALICE)
    store.save("b1", small(), {}, BOB)
    assert not (tmp_path / "models" / "a3.npz").exists()


def test_the_server_keeps_so_many_models_and_bytes(tmp_path: Path) -> None:
    store = store_with(tmp_path, server_models=2)
    store.save("a1", small(), {}, ALICE)
    store.save("b1", small(), {}, BOB)
    full = r"already keeps 2 saved models, the most it holds \(2\)"
    with pytest.raises(ModelRefused, match=full):
        store.save("c1", small(), {}, "c" * 32)
    size = file_size(small())
    other = tmp_path / "other"
    store = store_with(other, server_bytes=int(size * 1.5))
    store.save("a1", small(), {}, ALICE)
    with pytest.raises(ModelRefused, match=r"The server's saved models would take .* MB, over"):
        store.save("b1", small(), {}, BOB)


def test_thirty_quick_saves_from_one_browser_stop_at_its_quota(tmp_path: Path) -> None:
    store = store_with(tmp_path, owner_models=5)
    taken = 0
    for i in range(30):
        try:
            store.save(f"m{i}", small(), {}, ALICE)
            taken += 1
        except ModelRefused:
            pass
    assert taken == 5 and len(store.names()) == 6  # and the shipped one


KILLED_SAVE = """
import os, signal, sys
from pathlib import Path
import nn_core.model as model
from app.digits.store import ModelStore
from nn_core.model import Network
real = os.replace
def die(src, dst):
    if str(dst).endswith(".npz"):
        os.kill(os.getpid(), signal.SIGKILL)
    real(src, dst)
os.replace = die
net = Network([784, 8, 10], activation="relu", output_activation="softmax")
ModelStore(Path(sys.argv[1])).save("half", net, {}, "a" * 32)
"""


def test_a_save_killed_midway_leaves_nothing_behind(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-c", KILLED_SAVE, str(tmp_path)], cwd=ROOT)
    assert proc.returncode == -9  # killed while it wrote
    models = tmp_path / "models"
    left = sorted(p.name for p in models.iterdir() if p.name != ".lock")
    assert any(n.endswith(".tmp") for n in left), left  # what the kill left
    store = ModelStore(tmp_path)  # a starting server sweeps it away
    assert sorted(p.name for p in models.iterdir() if p.name != ".lock") == []
    assert "half" not in store.names()
    # and a stale temp file found later goes with the next save
    (models / ".x.npz.abcd.tmp").write_bytes(b"\0" * 1000)
    store.save("whole", small(), {}, BOB)
    assert sorted(p.name for p in models.iterdir() if p.name != ".lock") == [
        "whole.npz",
        "whole.owner",
    ]


# ---------------------------------------------------------------- over HTTP and the socket
def quota_app(tmp_path: Path) -> TestClient:
    settings = Settings(data_dir=tmp_path / "data", owner_models=3, server_models=7)
    return TestClient(create_app(settings))


def train_and_save(client: TestClient, saves: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Train a tiny network for one epoch, then send each save; their answers."""
    answers = []
    with client.websocket_connect("/ws/mnist") as ws:
        config = {"hidden_layers": [8], "epochs": 1, "batch_size": 1000}
        ws.send_json({"type": "start", "config": config})
        while next_json(ws, "status")["state"] != "done":
            pass
        for save in saves:
            ws.send_json({"type": "save", **save})
            while (event := next_json(ws))["type"] not in ("saved", "error"):
                pass
            answers.append(event)
    return answers


def test_the_socket_says_whose_name_it_is(tmp_path: Path) -> None:
    with quota_app(tmp_path) as client:
        answers = train_and_save(
            client,
            [
                {"name": "x", "owner": ALICE},
                {"name": "x", "owner": BOB},
                {"name": "x", "owner": ALICE},
                {"name": "y"},
                {"name": "mnist-mlp", "owner": BOB},
            ],
        )
    assert [a["type"] for a in answers] == ["saved", "error", "saved", "error", "error"]
    assert answers[1] == {"type": "error", "field": "name", "message": TAKEN}
    assert answers[3]["field"] == "owner" and "token" in answers[3]["message"]
    assert "shipped model" in answers[4]["message"]


def test_delete_over_http_needs_the_owners_token(tmp_path: Path) -> None:
    with quota_app(tmp_path) as client:
        train_and_save(client, [{"name": "x", "owner": ALICE}])
        listed = client.get("/api/models", headers={"X-Model-Owner": ALICE}).json()["models"]
        assert {m["name"]: m["yours"] for m in listed} == {"mnist-mlp": False, "x": True}
        listed = client.get("/api/models", headers={"X-Model-Owner": BOB}).json()["models"]
        assert {m["name"]: m["yours"] for m in listed} == {"mnist-mlp": False, "x": False}
        assert client.delete("/api/models/x").status_code == 401
        res = client.delete("/api/models/x", headers={"X-Model-Owner": BOB})
        assert res.status_code == 403
        assert res.json()["detail"]["message"].startswith("The model 'x' belongs to someone else")
        res = client.delete("/api/models/mnist-mlp", headers={"X-Model-Owner": ALICE})
        assert res.status_code == 403 and "shipped" in res.json()["detail"]["message"]
        for name, token, status in (("nope", ALICE, 404), ("x", "short", 422)):
            res = client.delete(f"/api/models/{name}", headers={"X-Model-Owner": token})
            assert res.status_code == status
        assert "x" in [m["name"] for m in client.get("/api/models").json()["models"]]
        res = client.delete("/api/models/x", headers={"X-Model-Owner": ALICE})
        assert res.status_code == 200 and res.json() == {"deleted": "x"}
        assert [m["name"] for m in client.get("/api/models").json()["models"]] == ["mnist-mlp"]


def test_the_quotas_reach_the_page_and_the_socket_names_them(tmp_path: Path) -> None:
    with quota_app(tmp_path) as client:
        rules = client.get("/api/options").json()["models"]
        assert rules["owner_models"] == 3 and rules["server_models"] == 7
        assert rules["name_length"] == 40 and rules["owner_bytes"] > 0
        answers = train_and_save(client, [{"name": f"m{i}", "owner": ALICE} for i in range(4)])
    assert [a["type"] for a in answers] == ["saved"] * 3 + ["error"]
    assert answers[3]["message"].startswith("You have saved 3 models, the most one browser")


def test_memory_holds_a_bounded_number_of_saved_networks_and_always_the_shipped_one(
    tmp_path: Path,
) -> None:
    store = store_with(tmp_path, owner_models=LOADED_MODELS + 5)
    shipped = store.get("mnist-mlp")
    for i in range(LOADED_MODELS + 2):
        store.save(f"m{i}", small(), {}, ALICE)
    first = store.get("m0")
    for i in range(1, LOADED_MODELS + 2):
        store.get(f"m{i}")
    assert store.get("mnist-mlp") is shipped  # its fitted novelty check stays
    assert store.get("m0") is not first  # the oldest saved one was let go, and loads again
    assert store.get(f"m{LOADED_MODELS + 1}") is store.get(f"m{LOADED_MODELS + 1}")


RACE = """
import sys
from pathlib import Path
from app.digits.quota import Quota
from app.digits.store import LOADED_MODELS, ModelRefused, ModelStore
from nn_core.model import Network
store = ModelStore(Path(sys.argv[1]), quota=Quota(5, 10**9, 10**4, 10**12))
net = Network([784, 8, 10], activation="relu", output_activation="softmax")
print("ready", flush=True)
sys.stdin.readline()  # all start together
for i in range(10):
    try:
        store.save(f"{sys.argv[2]}{i}", net, {}, "a" * 32)
    except ModelRefused:
        pass
"""


def test_worker_processes_saving_at_once_keep_to_one_quota(tmp_path: Path) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACE, str(tmp_path), tag],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        for tag in ("p", "q", "r")
    ]
    for proc in procs:  # every one has imported what it needs
        assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
        proc.stdin.close()
    codes = [proc.wait(60) for proc in procs]
    for proc in procs:
        assert proc.stdout is not None
        proc.stdout.close()
    assert codes == [0, 0, 0]
    saved = sorted(p.stem for p in (tmp_path / "models").glob("*.npz"))
    assert len(saved) == 5, saved
