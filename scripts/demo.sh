#!/usr/bin/env bash
# `make demo`: run hubtool on this repository's hub, step by step.
# Exit status 1 from a step means "findings" (a card held back, an asset not fetched) and is
# part of the demonstration; exit status 2 means hubtool itself failed, and stops the demo.
set -u
HUBTOOL=${HUBTOOL:-.venv/bin/hubtool}
step() {
  echo
  echo "\$ hubtool $*"
  "$HUBTOOL" "$@"
  local rc=$?
  if [ "$rc" -ge 2 ]; then
    echo "demo: 'hubtool $*' failed (exit $rc)" >&2
    exit "$rc"
  fi
  [ "$rc" -eq 1 ] && echo "(exit 1: findings above)"
  return 0
}
step check cards/
step inspect --load hub/assets/cifar10-cnn-canary.ms
step publish --to dist/hub
echo
echo "The published hub: dist/hub/index.json (a symlink to the newest complete generation)"
echo "Its catalog: dist/hub/index.html (open it in a browser, or serve dist/hub with python -m http.server)"
if command -v chromium >/dev/null; then
  for page in index.html:catalog-index.png cards/hubtool/cifar10-cnn-canary@7.4.0.html:catalog-canary.png; do
    chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1200,1600 \
      --screenshot="dist/${page#*:}" "file://$PWD/dist/hub/${page%%:*}" >/dev/null 2>&1 \
      && echo "screenshot: dist/${page#*:}"
  done
fi
