#!/usr/bin/env bash
# Sourced by benches/accuracy.sh and benches/speed.sh: composes the long hall of
# benches/hall/scenario.yaml in out/bench/hall (1080p, 10 minutes, 45 people in 60 seats, H.264;
# ~20-30 min the first time) with its roster, reused while its recipe is unchanged.
# Needs $bin (the rollcall to compose with).
hall=out/bench/hall
mkdir -p "$hall"
recipe=$({ cat benches/hall/scenario.yaml; for d in src/synth src/face; do find $d -name '*.rs' | sort | xargs cat; done; } | sha256sum | cut -d' ' -f1)
if [ ! -s "$hall/hall.mp4" ] || [ "$(cat "$hall/.recipe" 2>/dev/null)" != "$recipe" ]; then
  echo "composing the long hall (once): $hall/hall.mp4"
  "$bin" synth benches/hall/scenario.yaml --video "$hall/hall.mp4" --photos "$hall/photos"
  "$bin" enroll "$hall/photos" -o "$hall/roster.h5" --force
  echo "$recipe" > "$hall/.recipe"
fi
