"""The digits page's session: train an MNIST network, then save it by name (the common
protocol of :mod:`app.session`, plus ``save``)."""

from __future__ import annotations

from typing import Any, Literal

from app.digits.store import ModelRefused, ModelStore
from app.digits.training import MnistConfig, MnistRun
from app.session.requests import SaveRequest, make_parser
from app.session.session import Session
from app.validation import MNIST_LIMITS, Strict
from app.wire import saved_event


class MnistStartRequest(Strict):
    type: Literal["start"]
    config: MnistConfig = MnistConfig()
    paused: bool = False


parse_mnist = make_parser(MnistStartRequest, MNIST_LIMITS)
_PLAYGROUND_ONLY = "is for playground runs"


class MnistSession(Session[MnistRun]):
    elsewhere = {
        "edit": f"edit {_PLAYGROUND_ONLY}",
        "trace": f"trace {_PLAYGROUND_ONLY}",
        "verify": f"verify {_PLAYGROUND_ONLY}",
        "export": f"export {_PLAYGROUND_ONLY}; save this one",
    }

    def __init__(self, *args: Any, store: ModelStore, **options: Any) -> None:
        options.setdefault("build", MnistRun)
        options.setdefault("parse", parse_mnist)
        super().__init__(*args, **options)
        self.store = store

    async def on_save(self, item: SaveRequest) -> None:
        assert self.run is not None
        try:
            meta = await self.in_thread(self.run.save, self.store, item.name, item.owner)
        except ModelRefused as exc:
            await self.error(exc.field, str(exc))
            return
        except (ValueError, OSError) as exc:
            await self.error("name", str(exc))
            return
        await self.send_json(saved_event(item.name, meta))

    handlers = {**Session.handlers, "save": on_save}
