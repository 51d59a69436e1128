// Author: Reel
// License: MIT
// An iris closes on the centre: the next slide shows outside a shrinking circle.
// `softness` is the width of the blended rim, in fractions of the centre-to-corner distance.

uniform float softness; // = 0.0

vec4 transition(vec2 uv) {
    vec2 d = (uv - 0.5) * vec2(ratio, 1.0);  // in frame heights: a round circle at any ratio
    float corner = sqrt(ratio * ratio + 1.0) * 0.5;
    float t = sqrt(d.x * d.x + d.y * d.y) / corner;  // 1 at the corners, 0 at the centre
    // The edge starts a little outside 0..1 and ends a little past it, so that progress
    // 0 and 1 show one slide each even where a plane has a texel right on the centre.
    float band = max(softness, 0.0);
    float edge = 1.001 - progress * (1.002 + band);
    float reveal = band > 0.0 ? smoothstep(edge, edge + band, t) : step(edge, t);
    return mix(getFromColor(uv), getToColor(uv), reveal);
}
