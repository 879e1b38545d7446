"""How many saved models, and bytes, one browser and the whole server may keep, and how a
save over one of those limits is told."""

from __future__ import annotations

from dataclasses import dataclass

from app.config import Settings


def megabytes(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


@dataclass(frozen=True)
class Quota:
    """How many saved models, and bytes, one owner and the whole server may keep."""

    owner_models: int
    owner_bytes: int
    server_models: int
    server_bytes: int

    @classmethod
    def of(cls, settings: Settings) -> Quota:
        """The quotas a deployment set (``BACKPROP_OWNER_MODELS`` and the others)."""
        return cls(
            settings.owner_models,
            settings.owner_model_bytes,
            settings.server_models,
            settings.server_model_bytes,
        )

    def refusal(self, mine: dict[str, int], saved: dict[str, int], size: int) -> str | None:
        """Why one more model of ``size`` bytes may not be kept, in words (None: it may).
        ``mine``, ``saved``: the owner's and the server's models and their bytes."""
        ours, theirs = sum(mine.values()) + size, sum(saved.values()) + size
        over = (
            (
                len(mine) >= self.owner_models,
                f"You have saved {len(mine)} models, the most "
                f"one browser may keep ({self.owner_models})",
            ),
            (
                ours > self.owner_bytes,
                f"Your saved models would take {megabytes(ours)}, over "
                f"the {megabytes(self.owner_bytes)} one browser may keep",
            ),
            (
                len(saved) >= self.server_models,
                f"The server already keeps {len(saved)} saved "
                f"models, the most it holds ({self.server_models})",
            ),
            (
                theirs > self.server_bytes,
                f"The server's saved models would take "
                f"{megabytes(theirs)}, over the {megabytes(self.server_bytes)} it holds",
            ),
        )
        for i, (passed, text) in enumerate(over):
            if passed:
                return text + (
                    ": delete one of yours first" if i < 2 else ": ask whoever runs it to make room"
                )
        return None

    def describe(self) -> dict[str, int]:
        """The limits as ``/api/options`` gives them to the page."""
        return {
            "owner_models": self.owner_models,
            "owner_bytes": self.owner_bytes,
            "server_models": self.server_models,
            "server_bytes": self.server_bytes,
        }
