"""TrainConfig: defaults picked for the model, which data each model fits, old files still load."""
import json

import pytest

from deepprimer.train.config import TrainConfig, image_datasets, model_kind


def test_defaults_are_picked_for_the_model_and_stored():
    mlp = TrainConfig()
    assert (mlp.dataset, mlp.hidden, mlp.standardize) == ("digits", (128, 64), True)
    gpt = TrainConfig(model="minigpt")
    assert (gpt.dataset, gpt.standardize, gpt.kind) == ("text", False, "text")
    assert TrainConfig(model="char_rnn").hidden == (256,)
    vae = TrainConfig(model="vae")
    assert (vae.dataset, vae.hidden, vae.standardize, vae.kind) == ("digits", (256,), False, "generative")
    assert TrainConfig(model="conv_vae").hidden == (16, 32)
    assert TrainConfig(text_file="notes.txt", model="char_rnn").dataset == "text"
    saved = json.loads(TrainConfig(model="vae").to_json())
    assert saved["dataset"] == "digits" and saved["standardize"] is False and saved["hidden"] == [256]


def test_a_config_json_from_before_the_text_and_generative_models_still_loads(tmp_path):
    old = {"dataset": "iris", "model": "mlp", "hidden": [16], "activation": "relu", "optimizer": "adam",
           "lr": 0.001, "momentum": 0.9, "batch_size": 16, "epochs": 3, "weight_decay": 0.0, "dropout": 0.0,
           "batchnorm": False, "early_stopping": 0, "val_size": 0.1, "test_size": 0.25, "standardize": True,
           "seed": 0}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(old))
    config = TrainConfig.from_json_file(path)
    assert config.hidden == (16,) and config.standardize and config.kind == "classifier"


@pytest.mark.parametrize("settings, message", [
    ({"model": "minigpt", "dataset": "iris"}, "model minigpt needs a text dataset (--dataset text or --text-file PATH)"),
    ({"model": "char_rnn", "dataset": "digits"}, "model char_rnn needs a text dataset"),
    ({"model": "vae", "dataset": "text"}, "model vae needs an image dataset: digits, mnist, fashion_mnist"),
    ({"model": "conv_autoencoder", "dataset": "moons"}, "model conv_autoencoder needs an image dataset"),
    ({"model": "mlp", "dataset": "text"}, "needs a classification or regression dataset; 'text' is a text corpus: "
                                          "use --model minigpt or --model char_rnn"),
    ({"model": "vae", "standardize": True}, "set standardize to false"),
    ({"model": "minigpt", "text_file": "a.txt", "dataset": "digits"}, "--text-file PATH needs --dataset text"),
    ({"model": "gpt"}, "unknown model 'gpt'; choose from mlp, lenet, resnet, minigpt, char_rnn, autoencoder"),
    ({"model": "char_rnn", "hidden": (128, 64)}, "char_rnn takes one hidden size"),
    ({"model": "char_rnn", "cell": "transformer"}, "unknown cell 'transformer'; choose from lstm, gru, rnn"),
    ({"model": "minigpt", "d_model": 30, "heads": 4}, "d_model 30 must be divisible by heads 4"),
    ({"model": "minigpt", "steps_per_epoch": 0}, "steps per epoch must be >= 1"),
    ({"model": "vae", "latent_dim": 0}, "latent dim must be >= 1"),
])
def test_a_model_that_does_not_fit_says_what_would(settings, message):
    with pytest.raises(ValueError) as error:
        TrainConfig(**settings)
    assert message in str(error.value)


@pytest.mark.parametrize("settings, message", [
    ({"model": "vae", "dropout": 0.2}, "--dropout does not apply to model vae; it is for mlp, lenet, minigpt, char_rnn"),
    ({"model": "conv_vae", "activation": "tanh"}, "--activation does not apply to model conv_vae"),
    ({"model": "minigpt", "hidden": (64,)}, "--hidden does not apply to model minigpt"),
    ({"model": "lenet", "hidden": (32,)}, "--hidden does not apply to model lenet"),
    ({"model": "resnet", "batchnorm": True}, "--batchnorm does not apply to model resnet; it is for mlp"),
    ({"model": "mlp", "latent_dim": 4}, "--latent-dim does not apply to model mlp"),
    ({"model": "mlp", "block_size": 32}, "--block-size does not apply to model mlp; it is for minigpt, char_rnn"),
    ({"model": "char_rnn", "heads": 2}, "--heads does not apply to model char_rnn; it is for minigpt"),
    ({"model": "minigpt", "cell": "gru"}, "--cell does not apply to model minigpt; it is for char_rnn"),
    ({"model": "minigpt", "val_size": 0.3}, "--val-size does not apply to model minigpt; it is for mlp, lenet"),
    ({"model": "char_rnn", "test_size": 0.5}, "--test-size does not apply to model char_rnn"),
    ({"optimizer": "adam", "momentum": 0.5}, "--momentum does not apply to optimizer adam; it is for momentum, nesterov"),
])
def test_a_setting_the_model_would_ignore_is_an_error(settings, message):
    with pytest.raises(ValueError) as error:
        TrainConfig(**settings)
    assert message in str(error.value)


def test_settings_a_model_reads_are_accepted():
    assert TrainConfig(model="lenet", dropout=0.2).dropout == 0.2
    assert TrainConfig(model="char_rnn", hidden=(64,), cell="gru", layers=1).cell == "gru"
    assert TrainConfig(model="conv_vae", hidden=(8, 16), latent_dim=4).hidden == (8, 16)


def test_a_saved_config_trains_another_model_with_that_models_defaults(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(TrainConfig(epochs=3).to_json())  # mlp: digits, (128, 64), standardised
    vae = TrainConfig.from_json_file(path, model="vae")
    assert (vae.dataset, vae.hidden, vae.standardize, vae.epochs) == ("digits", (256,), False, 3)
    gpt = TrainConfig.from_json_file(path, model="minigpt")
    assert (gpt.dataset, gpt.hidden) == ("text", ())
    path.write_text(TrainConfig(optimizer="momentum", momentum=0.5).to_json())
    assert TrainConfig.from_json_file(path, optimizer="adam").momentum == TrainConfig.momentum  # adam has none
    assert TrainConfig.from_json_file(path, optimizer="nesterov").momentum == 0.5
    path.write_text(TrainConfig(hidden=(32,), epochs=3).to_json())  # a choice, not a default: kept
    with pytest.raises(ValueError, match="--hidden does not apply to model minigpt"):
        TrainConfig.from_json_file(path, model="minigpt")


def test_kinds_and_image_datasets():
    assert [model_kind(m) for m in ("resnet", "char_rnn", "conv_vae")] == ["classifier", "text", "generative"]
    assert image_datasets() == ["digits", "mnist", "fashion_mnist"]


def test_describe_names_what_trains_on_what():
    assert TrainConfig(hidden=(16,), epochs=3).describe() == \
        "training mlp [16] on digits with adam (lr 0.001, batch 64, 3 epochs, seed 0)"
    assert "minigpt (d_model 128, layers 2, heads 4, block 64) on text" in TrainConfig(model="minigpt").describe()
    assert "30 epochs of 100 steps" in TrainConfig(model="char_rnn").describe()
    assert "vae (hidden [256], latent 8) on digits" in TrainConfig(model="vae").describe()
