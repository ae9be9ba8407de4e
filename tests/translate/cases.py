"""The translation table: source expressions in every framework's syntax.

Each case is ``(id, source, shape, tf_version)``: the expression as a user
writes it, the weight shape in the *source* framework's own layout (about
20 000 elements, so that one sample per framework is enough for the variance
and KS checks), and for TF1 sources the TensorFlow version it ran under (None:
TF ≥ 1.10). ``scripts/gen_porting_guide.py`` builds the porting guide from this
table.
"""

from __future__ import annotations

from typing import NamedTuple


class Case(NamedTuple):
    id: str
    source: str
    shape: tuple[int, ...]
    tf_version: str | None = None


DENSE_TF = (200, 100)  # Keras/TF/JAX Dense kernel (in, out)
DENSE_TORCH = (100, 200)  # the same layer in PyTorch/MindSpore (out, in)
CONV_TF = (3, 3, 48, 48)  # HWIO
CONV_TORCH = (48, 48, 3, 3)  # OIHW

CASES: list[Case] = [
    # -- Keras 3 -------------------------------------------------------------
    Case("keras-glorot-uniform", "keras.initializers.GlorotUniform()", DENSE_TF),
    Case("keras-glorot-normal", "keras.initializers.GlorotNormal(seed=1)", DENSE_TF),
    Case("keras-he-normal-conv", "keras.initializers.HeNormal()", CONV_TF),
    Case("keras-he-uniform", "keras.initializers.HeUniform()", DENSE_TF),
    Case("keras-lecun-normal", "keras.initializers.LecunNormal()", CONV_TF),
    Case("keras-lecun-uniform", "keras.initializers.LecunUniform()", DENSE_TF),
    Case("keras-vs-untruncated-fan-out",
         "keras.initializers.VarianceScaling(scale=2.0, mode='fan_out', distribution='untruncated_normal')", CONV_TF),
    Case("keras-vs-uniform-fan-avg-half",
         "keras.initializers.VarianceScaling(scale=0.5, mode='fan_avg', distribution='uniform')", DENSE_TF),
    Case("keras-vs-truncated-scale3",
         "keras.initializers.VarianceScaling(scale=3.0, mode='fan_in', distribution='truncated_normal')", DENSE_TF),
    Case("keras-vs-normal-alias", "keras.initializers.VarianceScaling(distribution='normal')", DENSE_TF),
    Case("keras-vs-one-third", "keras.initializers.VarianceScaling(scale=1/3, mode='fan_in', distribution='uniform')",
         CONV_TF),
    Case("keras-he-uniform-rank1", "keras.initializers.HeUniform()", (20000,)),
    Case("keras-get-glorot-uniform", 'keras.initializers.get("glorot_uniform")', DENSE_TF),
    Case("keras-get-he-normal", "keras.initializers.get('HeNormal')", DENSE_TF),
    Case("keras-random-normal", "keras.initializers.RandomNormal(mean=0.0, stddev=0.05)", DENSE_TF),
    Case("keras-truncated-normal", "keras.initializers.TruncatedNormal(stddev=0.02)", DENSE_TF),
    Case("keras-random-uniform", "keras.initializers.RandomUniform(minval=-0.05, maxval=0.05)", DENSE_TF),
    Case("keras-random-normal-mean1", "keras.initializers.RandomNormal(mean=1.0, stddev=0.02)", DENSE_TF),
    Case("keras-random-uniform-asym", "keras.initializers.RandomUniform(minval=-0.05, maxval=0.1)", DENSE_TF),
    Case("keras-json-he-uniform", '{"class_name": "HeUniform", "config": {"seed": null}}', DENSE_TF),
    Case("keras-json-module-vs",
         '{"module": "keras.initializers", "class_name": "VarianceScaling", "config": {"scale": 2.0, '
         '"mode": "fan_avg", "distribution": "truncated_normal", "seed": null}, "registered_name": null}', CONV_TF),
    # -- tf.keras 2 ------------------------------------------------------------
    Case("tfkeras-vs-fan-avg-uniform",
         'tf.keras.initializers.VarianceScaling(mode="fan_avg", distribution="uniform")', DENSE_TF),
    Case("tfkeras-he-normal", "tf.keras.initializers.HeNormal()", CONV_TF),
    Case("tfkeras-glorot-normal", "tf.keras.initializers.GlorotNormal()", DENSE_TF),
    Case("tfkeras-vs-untruncated", "tf.keras.initializers.VarianceScaling(scale=1.0, mode='fan_in', "
         "distribution='untruncated_normal')", DENSE_TF),
    Case("tfkeras-lecun-uniform", "tf.keras.initializers.LecunUniform()", CONV_TF),
    # -- TF1 core --------------------------------------------------------------
    Case("tf1-default", "tf.variance_scaling_initializer()", DENSE_TF),
    Case("tf1-uniform-he", "tf.compat.v1.variance_scaling_initializer(scale=2.0, mode='fan_in', "
         "distribution='uniform')", CONV_TF),
    Case("tf1-glorot-uniform", "tf.glorot_uniform_initializer()", DENSE_TF),
    Case("tf1-glorot-normal", "tf.glorot_normal_initializer()", DENSE_TF),
    Case("tf1-he-normal", "tf.compat.v1.initializers.he_normal()", CONV_TF),
    Case("tf1-untruncated-fan-avg", "tf.variance_scaling_initializer(mode='fan_avg', "
         "distribution='untruncated_normal')", DENSE_TF),
    Case("tf1-normal-alias", "tf.variance_scaling_initializer(scale=2.0, distribution='normal')", DENSE_TF),
    Case("tf1-truncated-normal-fixed", "tf.truncated_normal_initializer(stddev=0.1)", DENSE_TF),
    Case("tf1-random-normal-fixed", "tf.random_normal_initializer(stddev=0.02)", DENSE_TF),
    Case("tf1-random-uniform-fixed", "tf.random_uniform_initializer(-0.1, 0.1)", DENSE_TF),
    Case("tf19-default-uncorrected", "tf.variance_scaling_initializer()", DENSE_TF, "1.9"),
    Case("tf19-he-normal-uncorrected", "tf.variance_scaling_initializer(scale=2.0, distribution='normal')",
         CONV_TF, "1.9"),
    Case("tf19-glorot-normal-uncorrected", "tf.glorot_normal_initializer()", DENSE_TF, "1.9"),
    # -- TF1 contrib -----------------------------------------------------------
    Case("contrib-default", "tf.contrib.layers.variance_scaling_initializer()", CONV_TF),
    Case("contrib-xavier-uniform-explicit",
         "tf.contrib.layers.variance_scaling_initializer(factor=1.0, mode='FAN_AVG', uniform=True)", DENSE_TF),
    Case("contrib-xavier", "tf.contrib.layers.xavier_initializer()", DENSE_TF),
    Case("contrib-xavier-normal", "tf.contrib.layers.xavier_initializer(uniform=False)", DENSE_TF),
    Case("contrib-caffe", "tf.contrib.layers.variance_scaling_initializer(factor=1.0, mode='FAN_IN', uniform=True)",
         CONV_TF),
    Case("contrib-fan-out", "tf.contrib.layers.variance_scaling_initializer(factor=2.0, mode='FAN_OUT')", DENSE_TF),
    Case("contrib-xavier-conv2d", "tf.contrib.layers.xavier_initializer_conv2d()", CONV_TF),
    # -- PyTorch ---------------------------------------------------------------
    Case("torch-kaiming-normal-fan-out", "nn.init.kaiming_normal_(w, mode='fan_out', nonlinearity='relu')",
         CONV_TORCH),
    Case("torch-default-linear", "nn.init.kaiming_uniform_(w, a=math.sqrt(5))", DENSE_TORCH),
    Case("torch-default-conv", "torch.nn.init.kaiming_uniform_(w, a=math.sqrt(5))", CONV_TORCH),
    Case("torch-xavier-uniform", "torch.nn.init.xavier_uniform_(w)", DENSE_TORCH),
    Case("torch-xavier-normal-gain2", "torch.nn.init.xavier_normal_(w, gain=2)", DENSE_TORCH),
    Case("torch-kaiming-uniform-linear", "torch.nn.init.kaiming_uniform_(w, nonlinearity='linear')", CONV_TORCH),
    Case("torch-kaiming-normal-leaky", "torch.nn.init.kaiming_normal_(w, a=0.2, nonlinearity='leaky_relu')",
         DENSE_TORCH),
    Case("torch-kaiming-normal-selu", "torch.nn.init.kaiming_normal_(w, nonlinearity='selu')", DENSE_TORCH),
    Case("torch-kaiming-uniform-default", "torch.nn.init.kaiming_uniform_(w)", DENSE_TORCH),
    Case("torch-trunc-normal-002", "torch.nn.init.trunc_normal_(w, std=0.02)", DENSE_TORCH),
    Case("torch-trunc-normal-unit", "torch.nn.init.trunc_normal_(w, std=1.0)", DENSE_TORCH),
    Case("torch-trunc-normal-2sigma", "torch.nn.init.trunc_normal_(w, std=0.05, a=-0.1, b=0.1)", DENSE_TORCH),
    Case("torch-normal", "torch.nn.init.normal_(w, std=0.01)", DENSE_TORCH),
    Case("torch-uniform", "torch.nn.init.uniform_(w, -0.1, 0.1)", DENSE_TORCH),
    # fixed laws with a mean (DCGAN's BatchNorm weights, U(0, 1)): not variance scaling, but in real models
    Case("torch-normal-mean1", "nn.init.normal_(w, 1.0, 0.02)", DENSE_TORCH),
    Case("torch-uniform-0-1", "nn.init.uniform_(w)", DENSE_TORCH),
    Case("torch-trunc-normal-mean", "nn.init.trunc_normal_(w, mean=1.0, std=0.02, a=0.96, b=1.04)", DENSE_TORCH),
    # -- JAX / Flax ------------------------------------------------------------
    Case("jax-lecun-normal", "jax.nn.initializers.lecun_normal()", DENSE_TF),
    Case("jax-glorot-uniform", "jax.nn.initializers.glorot_uniform()", CONV_TF),
    Case("jax-he-normal", "jax.nn.initializers.he_normal()", CONV_TF),
    Case("jax-vs-normal-fan-avg", "jax.nn.initializers.variance_scaling(2.0, 'fan_avg', 'normal')", DENSE_TF),
    Case("jax-vs-geo-avg", "jax.nn.initializers.variance_scaling(1.0, 'fan_geo_avg', 'uniform')", DENSE_TF),
    Case("jax-vs-truncated-fan-out", "jax.nn.initializers.variance_scaling(0.5, 'fan_out', 'truncated_normal')",
         DENSE_TF),
    Case("jax-normal", "jax.nn.initializers.normal(stddev=0.02)", DENSE_TF),
    Case("jax-uniform-scale", "jax.nn.initializers.uniform(scale=0.05)", DENSE_TF),
    Case("jax-truncated-normal", "jax.nn.initializers.truncated_normal(stddev=0.05)", DENSE_TF),
    Case("flax-xavier-normal", "flax.linen.initializers.xavier_normal()", DENSE_TF),
    Case("jax-kaiming-uniform", "jax.nn.initializers.kaiming_uniform()", CONV_TF),
    Case("flax-embed-default", "flax.linen.initializers.variance_scaling(1.0, 'fan_in', 'normal', out_axis=0)",
         (1000, 20)),
    # -- MindSpore -------------------------------------------------------------
    Case("ms-xavier-uniform-gain2", "XavierUniform(gain=2)", DENSE_TORCH),
    Case("ms-initializer-he-normal", "initializer('he_normal', [64, 3, 3, 3])", (64, 3, 3, 3)),
    Case("ms-initializer-xavier-uniform", "initializer('xavier_uniform', [100, 200])", DENSE_TORCH),
    Case("ms-he-uniform", "mindspore.common.initializer.HeUniform()", CONV_TORCH),
    Case("ms-he-normal-fan-out", "mindspore.common.initializer.HeNormal(mode='fan_out')", DENSE_TORCH),
    Case("ms-xavier-normal", "mindspore.common.initializer.XavierNormal()", DENSE_TORCH),
    Case("ms-vs-truncated-is-uniform", "mindspore.common.initializer.VarianceScaling(2.0, 'fan_in', "
         "'truncated_normal')", DENSE_TORCH),
    Case("ms-vs-untruncated", "mindspore.common.initializer.VarianceScaling(1.0, 'fan_avg', 'untruncated_normal')",
         CONV_TORCH),
    Case("ms-truncated-normal", "mindspore.common.initializer.TruncatedNormal(sigma=0.02)", DENSE_TORCH),
    Case("ms-normal", "mindspore.common.initializer.Normal(sigma=0.05)", DENSE_TORCH),
    Case("ms-normal-mean", "mindspore.common.initializer.Normal(sigma=0.02, mean=1.0)", DENSE_TORCH),
    Case("ms-uniform", "mindspore.common.initializer.Uniform(scale=0.07)", DENSE_TORCH),
    Case("ms-default-dense", "HeUniform(negative_slope=math.sqrt(5))", DENSE_TORCH),
    # -- varscale --------------------------------------------------------------
    Case("varscale-he-normal", "varscale.HeNormal()", CONV_TF),
    Case("varscale-vs-torch-layout",
         "varscale.VarianceScaling(scale=2.0, mode='fan_out', distribution='uniform', layout='torch')", CONV_TORCH),
    Case("varscale-json", '{"class_name": "VarianceScaling", "config": {"scale": 1.0, "mode": "fan_avg", '
         '"distribution": "untruncated_normal", "seed": null, "layout": "tf", "stream_version": 1}}', DENSE_TF),
]
