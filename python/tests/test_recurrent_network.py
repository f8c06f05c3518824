"""locus.Network with recurrent layers: forward_sequence from Python, its carried state and episode
starts, and the cells' arithmetic against a NumPy transcription of PyTorch's RNN, GRU and LSTM
equations (and against torch.nn itself where torch is installed)."""

import numpy as np
import pytest

import locus
import locus.errors

STEPS, BATCH, INPUTS, HIDDEN, OUTPUTS = 7, 3, 4, 6, 2


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def numpy_rnn(cell, x, W, U, b, R, c):
    """PyTorch's cell equations (gate order r, z, n and i, f, g, o; one bias, b_hh = 0), then a
    linear readout y = h R^T + c."""
    H = U.shape[1]
    h = np.zeros((x.shape[1], H))
    cell_state = np.zeros_like(h)
    outputs = []
    for t in range(x.shape[0]):
        xz, hz = x[t] @ W.T, h @ U.T
        if cell == "elman":
            h = np.tanh(xz + hz + b)
        elif cell == "gru":
            r = sigmoid(xz[:, :H] + hz[:, :H] + b[:H])
            z = sigmoid(xz[:, H:2 * H] + hz[:, H:2 * H] + b[H:2 * H])
            n = np.tanh(xz[:, 2 * H:] + r * hz[:, 2 * H:] + b[2 * H:])
            h = (1 - z) * n + z * h
        else:
            a = xz + hz + b
            i, f = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H])
            g, o = np.tanh(a[:, 2 * H:3 * H]), sigmoid(a[:, 3 * H:])
            cell_state = f * cell_state + i * g
            h = o * np.tanh(cell_state)
        outputs.append(h @ R.T + c)
    return np.stack(outputs)


def trainable(cell, seed=3):
    return locus.Network.recurrent(cell, INPUTS, HIDDEN, OUTPUTS, seed=seed, modulated=False)


def weights(net):
    return [net.parameter(name).astype(np.float64) for name in
            ("layer0.weight", "layer0.recurrent_weight", "layer0.bias", "head.output.weight",
             "head.output.bias")]


@pytest.mark.parametrize("cell", ["elman", "gru", "lstm"])
def test_cells_compute_pytorchs_equations(cell):
    net = trainable(cell)
    rng = np.random.default_rng(0)
    net.set_parameter("layer0.bias", rng.normal(size=net.parameter("layer0.bias").shape))
    x = rng.normal(size=(STEPS, BATCH, INPUTS)).astype(np.float32)
    outputs, state = net.forward_sequence(x)
    assert outputs[0].shape == (STEPS, BATCH, OUTPUTS)
    assert [s.shape for s in state] == [(BATCH, HIDDEN)] * (2 if cell == "lstm" else 1)
    expected = numpy_rnn(cell, x.astype(np.float64), *weights(net))
    np.testing.assert_allclose(outputs[0], expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cell", ["elman", "gru", "lstm"])
def test_cells_match_torch(cell):
    torch = pytest.importorskip("torch")
    net = trainable(cell, seed=5)
    W, U, b, R, c = weights(net)
    module = {"elman": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[cell](INPUTS, HIDDEN)
    with torch.no_grad():
        module.weight_ih_l0.copy_(torch.tensor(W))
        module.weight_hh_l0.copy_(torch.tensor(U))
        module.bias_ih_l0.copy_(torch.tensor(b))
        module.bias_hh_l0.zero_()
    x = np.random.default_rng(1).normal(size=(STEPS, BATCH, INPUTS)).astype(np.float32)
    with torch.no_grad():
        hidden, _ = module(torch.tensor(x))
    expected = hidden.numpy().astype(np.float64) @ R.T + c
    np.testing.assert_allclose(net.forward_sequence(x)[0][0], expected, rtol=1e-4, atol=1e-5)


def test_state_carries_across_calls_and_episode_starts_reset_it():
    net = locus.Network.recurrent("gru", INPUTS, HIDDEN, OUTPUTS, seed=2)  # modulated
    x = np.random.default_rng(2).normal(size=(STEPS, BATCH, INPUTS)).astype(np.float32)
    whole, whole_state = net.forward_sequence(x)
    first, state = net.forward_sequence(x[:3])
    rest, final = net.forward_sequence(x[3:], state=state)
    np.testing.assert_allclose(np.concatenate([first[0], rest[0]]), whole[0], atol=1e-6)
    np.testing.assert_allclose(final[0], whole_state[0], atol=1e-6)
    starts = np.zeros((STEPS, BATCH), dtype=bool)
    starts[3, :] = True
    restarted, _ = net.forward_sequence(x, state=state, episode_starts=starts)
    fresh, _ = net.forward_sequence(x[3:])
    np.testing.assert_allclose(restarted[0][3:], fresh[0], atol=1e-6)
    assert all(np.all(s == 0) for s in net.zero_state(BATCH))


def test_per_sequence_contexts_select_each_sequences_parameters():
    net = locus.Network.recurrent("lstm", INPUTS, HIDDEN, OUTPUTS, seed=2)
    net.add_context()
    net.set_parameter("layer0.gain", np.full(4 * HIDDEN, 0.5, dtype=np.float32), context=1)
    x = np.random.default_rng(3).normal(size=(STEPS, 2, INPUTS)).astype(np.float32)
    mixed, _ = net.forward_sequence(x, contexts=[0, 1])
    only_zero, _ = net.forward_sequence(x, contexts=[0, 0])
    only_one, _ = net.forward_sequence(x, contexts=np.ones((STEPS, 2), dtype=np.int64))
    np.testing.assert_array_equal(mixed[0][:, 0], only_zero[0][:, 0])
    np.testing.assert_array_equal(mixed[0][:, 1], only_one[0][:, 1])
    assert not np.allclose(mixed[0][:, 0], mixed[0][:, 1])


def test_recurrent_checkpoint_round_trip(tmp_path):
    net = locus.Network.recurrent("elman", INPUTS, HIDDEN, OUTPUTS, seed=4, alpha=0.25)
    x = np.random.default_rng(4).normal(size=(STEPS, BATCH, INPUTS)).astype(np.float32)
    net.save(str(tmp_path / "rnn.locusnm"))
    loaded = locus.Network.load(str(tmp_path / "rnn.locusnm"))
    assert loaded.is_recurrent and loaded.spec["layers"][0]["alpha"] == 0.25
    np.testing.assert_array_equal(loaded.forward_sequence(x)[0][0], net.forward_sequence(x)[0][0])


def test_errors_name_the_shapes():
    net = trainable("lstm")
    with pytest.raises(locus.errors.ShapeError, match=r"\(steps, batch, input_dim\)"):
        net.forward_sequence(np.zeros((STEPS, INPUTS), dtype=np.float32))
    with pytest.raises(locus.errors.ShapeError, match=r"hidden state has shape \(2, 6\); expected \(3, 6\)"):
        net.forward_sequence(np.zeros((STEPS, BATCH, INPUTS)), state=net.zero_state(2))
    with pytest.raises(locus.errors.InvalidArgumentError, match="forward_sequence"):
        net.forward(np.zeros((BATCH, INPUTS), dtype=np.float32))
    with pytest.raises(locus.errors.InvalidArgumentError, match="cell 'rnn' is not one of"):
        locus.Network.recurrent("rnn", INPUTS, HIDDEN, OUTPUTS)
