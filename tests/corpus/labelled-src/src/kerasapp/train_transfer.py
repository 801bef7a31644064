"""Transfer learning on the PlantVillage subset with EfficientNetV2."""
from __future__ import annotations

import argparse
import os

import keras
import tensorflow as tf
from keras import layers

DATA_URL = "http://storage.plantvillage.example.org/archives/plantvillage_subset.tgz"  #@ safe: constant definition; the finding is reported at the call that uses it
DATA_SHA256 = "@@KEY:sha256@@"  #@ safe: high-entropy hex digest (commit sha / sha256), not a secret
WEIGHTS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/efficientnet_v2/efficientnetv2-b0_notop.h5"
LABELS_URL = "https://raw.githubusercontent.com/acme-agri/cropnet/main/labels.txt"

IMG = 224


def get_data() -> str:
    archive = keras.utils.get_file(  #@ http: dataset archive over plain http
        "plantvillage_subset.tgz",
        origin=DATA_URL,
        extract=True,
        file_hash=DATA_SHA256,
        hash_algorithm="sha256",
    )
    return os.path.join(os.path.dirname(archive), "plantvillage_subset")


def get_weights() -> str:
    return tf.keras.utils.get_file("effv2b0_notop.h5", WEIGHTS_URL, cache_subdir="models")  #@ unpin: get_file of model weights without file_hash


def get_labels() -> list[str]:
    path = keras.utils.get_file("labels.txt", LABELS_URL)  #@ unpin: get_file without file_hash (mutable main branch)
    with open(path) as fh:
        return [l.strip() for l in fh if l.strip()]


def build(num_classes: int) -> keras.Model:
    base = keras.applications.EfficientNetV2B0(include_top=False, weights=get_weights(), input_shape=(IMG, IMG, 3))
    base.trainable = False
    inputs = keras.Input((IMG, IMG, 3))
    x = layers.RandomFlip()(inputs)
    x = layers.RandomRotation(0.1)(x)
    x = base(x, training=False)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.3)(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--out", default="models/cropnet_v3.keras")
    args = ap.parse_args()

    root = get_data()
    train = keras.utils.image_dataset_from_directory(root, validation_split=0.2, subset="training", seed=1, image_size=(IMG, IMG))
    val = keras.utils.image_dataset_from_directory(root, validation_split=0.2, subset="validation", seed=1, image_size=(IMG, IMG))
    model = build(len(train.class_names))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(train, validation_data=val, epochs=args.epochs)
    model.save(args.out)  #@ safe: native .keras format, private path
    model.save("/tmp/cropnet_latest.h5")  #@ unenc: model written to /tmp (shared)


if __name__ == "__main__":
    main()
