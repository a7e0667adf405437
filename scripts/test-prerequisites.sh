#!/usr/bin/env bash
# What the test suite needs from Debian, installed when this machine allows it (`make test` runs this first).
#
#   postgresql        the database tests run a second time on PostgreSQL (scripts/with-postgres.sh starts a
#                     throwaway cluster on loopback)
#   chromium          the browser tests (Playwright drives Debian's Chromium, /usr/bin/chromium)
#   fonts-noto-cjk    Japanese glyphs in the browser's screenshots (the PDFs embed the shipped IPAex font)
#   poppler-utils     pdffonts/pdfinfo/pdftotext: the PDF checks read fonts and text as a reader's viewer does
#   r-base-core r-cran-msm   the deterioration cross-check against R's msm
#   r-cran-survival   the service-life (Weibull) cross-check against R's survival::survreg
#   python3-venv      only when Debian's python3 lacks ensurepip (make creates .venv with it)
#   make              (already there when this runs from make; listed for .ci/run on a bare image)
#
# Installs only what is missing, with apt-get as root or through sudo without a password. Without either it
# prints what is missing: outside CI those tests are then skipped with their reason; under CI (env CI set) the
# suite fails them, so a green CI never hides a missing install.
set -euo pipefail

PACKAGES=(postgresql chromium fonts-noto-cjk poppler-utils r-base-core r-cran-msm r-cran-survival make)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
# Debian's own python3 makes virtual environments only with python3-venv (ensurepip); make creates .venv next
if command -v python3 >/dev/null && ! python3 -c "import ensurepip" 2>/dev/null \
    && [ "$(command -v python3)" = /usr/bin/python3 ]; then
  missing+=(python3-venv)
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "== テストに必要な Debian パッケージはそろっています: ${PACKAGES[*]}"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "== apt-get がありません。次を手で入れてください（無いテストは理由を表示して省略）: ${missing[*]}" >&2
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
else
  echo "== root でも sudo でもないため入れられません: ${missing[*]}" >&2
  echo "   sudo apt-get install ${missing[*]}   を実行すると、これらのテストも動きます（今回は省略）。" >&2
  exit 0
fi

echo "== apt-get install ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "== 入れました: ${missing[*]}"
