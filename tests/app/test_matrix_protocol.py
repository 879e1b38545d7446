"""The matrix form over /ws/train: the tutorials' shapes, the card's gradient for the
training set, and the next mini-batch as the one the next update trains on."""

from __future__ import annotations

import numpy as np
from fastapi.testclient import TestClient

from app.playground.matrix import MATRIX_COLUMNS, MATRIX_UNITS
from tests.app.test_backprop_protocol import SMALL, frame_and_health, start
from tests.app.wsutil import next_json


def test_the_training_sets_matrix_form_is_the_cards_gradient(client: TestClient) -> None:
    with client.websocket_connect("/ws/train") as ws:
        start(ws, {**SMALL, "regularization": "l2", "regularization_rate": 0.1})
        ws.send_json({"type": "step"})
        blocks, _ = frame_and_health(ws)
        ws.send_json({"type": "matrix", "batch": "train"})
        mf = next_json(ws, "matrix")
    assert mf["epoch"] == 1 and mf["m"] == 50 and mf["batch"] == "train"
    sizes = [2, 3, 2, 1]
    offset = 0
    for li, lay in enumerate(mf["layers"]):
        n_in, n_out = sizes[li], sizes[li + 1]
        assert lay["shapes"]["W"] == lay["shapes"]["dW"] == [n_out, n_in]
        assert lay["shapes"]["Z"] == lay["shapes"]["dZ"] == [n_out, 50]
        assert lay["shapes"]["db"] == [n_out, 1] and lay["shapes"]["dA_prev"] == [n_in, 50]
        assert len(lay["Z"][0]) == min(50, MATRIX_COLUMNS)
        # the card's gradient (the frame's blocks, ours: n_in x n_out, row-major) is the
        # objective's, its regulariser's part apart: dW_reg is its transpose, dW the data part
        card = blocks["grad_weights"][offset : offset + n_in * n_out].reshape(n_in, n_out)
        reg = blocks["grad_weights_reg"][offset : offset + n_in * n_out].reshape(n_in, n_out)
        np.testing.assert_allclose(np.array(lay["dW_reg"]), card.T, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(np.array(lay["dW"]), (card - reg).T, rtol=1e-4, atol=1e-6)
        w = blocks["weights"][offset : offset + n_in * n_out].reshape(n_in, n_out)
        np.testing.assert_allclose(np.array(lay["W"]), w.T, rtol=1e-5)
        offset += n_in * n_out
        # Z = W·A_prev + b, column by column, on the numbers sent
        z = np.array(lay["W"]) @ np.array(lay["A_prev"]) + np.array(lay["b"])
        np.testing.assert_allclose(np.array(lay["Z"]), z, rtol=1e-4, atol=1e-5)
    assert "samples are columns" in mf["convention"]["tutorials"]


def test_the_next_batch_is_a_mini_batch_and_its_dw_is_its_mean(client: TestClient) -> None:
    with client.websocket_connect("/ws/train") as ws:
        start(ws, {**SMALL, "batch_size": 8})
        ws.send_json({"type": "matrix"})
        mf = next_json(ws, "matrix")
        ws.send_json({"type": "matrix", "batch": "next"})
        again = next_json(ws, "matrix")
    assert mf["m"] == 8 and len(set(mf["rows"])) == 8 and all(0 <= r < 50 for r in mf["rows"])
    assert again["rows"] == mf["rows"]  # looking draws nothing
    for lay in mf["layers"]:
        dz, a_prev = np.array(lay["dZ"]), np.array(lay["A_prev"])
        np.testing.assert_allclose(np.array(lay["dW"]), dz @ a_prev.T / 8, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(np.array(lay["db"])[:, 0], dz.mean(axis=1), rtol=1e-4, atol=1e-6)
    assert mf["fused"]  # sigmoid and cross-entropy: the tutorials' dZ = A − Y


def test_a_wide_network_sends_its_shapes_whole_and_its_first_numbers(client: TestClient) -> None:
    with client.websocket_connect("/ws/train") as ws:
        start(ws, {"hidden_layers": [40], "dataset": "circle", "n_samples": 200, "grid": 20})
        ws.send_json({"type": "matrix", "batch": "train"})
        mf = next_json(ws, "matrix")
        ws.send_json({"type": "matrix", "batch": "all"})
        err = next_json(ws, "error")
    first = mf["layers"][0]
    assert first["shapes"]["Z"] == [40, 100] and len(first["Z"]) == MATRIX_UNITS
    assert len(first["Z"][0]) == MATRIX_COLUMNS and mf["columns_shown"] == MATRIX_COLUMNS
    assert err["field"] == "batch" and "next" in err["message"]
    assert first["shapes"]["dW"] == [40, 2] and len(first["dW"]) == MATRIX_UNITS
