#!/bin/sh
# Installs what `make test` needs that is not part of Go, when it is missing:
# the aws CLI (smoke test of the S3 endpoint), boto3 for python3, and the
# python-swiftclient CLI with keystoneclient (smoke test of the Swift and
# Keystone endpoints).
# Idempotent: with both present it changes nothing. Debian/Ubuntu (apt-get).
set -eu

works() { "$@" >/dev/null 2>&1; }

missing=""
if ! works aws --version && ! works /usr/bin/aws --version; then
	missing="$missing awscli"
fi
boto3=no
for py in python3 /usr/bin/python3; do
	if works "$py" -c 'import boto3'; then
		boto3=yes
		break
	fi
done
if [ "$boto3" = no ]; then
	missing="$missing python3-boto3"
fi

if ! works swift --version && ! works /usr/bin/swift --version; then
	missing="$missing python3-swiftclient"
fi
# The swift CLI needs keystoneclient for Keystone v3 auth.
if ! works /usr/bin/python3 -c 'import keystoneclient'; then
	missing="$missing python3-keystoneclient"
fi

if [ -z "$missing" ]; then
	echo "test dependencies present (aws CLI, boto3, swift)"
	exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
	echo "install-test-deps: missing:$missing; install them with your package manager" >&2
	exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	sudo="sudo"
fi
echo "installing:$missing"
# Refresh the package lists once, only when they do not know the packages.
# shellcheck disable=SC2086 # word splitting of the package list is wanted
if ! works apt-cache show $missing; then
	$sudo apt-get update
fi
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends $missing
