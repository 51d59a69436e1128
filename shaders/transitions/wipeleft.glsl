// Author: Reel
// License: MIT
// An edge sweeps from the right side to the left, uncovering the next slide behind it.
// `softness` is the width of the blended band, in fractions of the frame width.

uniform float softness; // = 0.0

vec4 transition(vec2 uv) {
    // The edge starts at the right border and ends a band's width past the left one,
    // so progress 0 and 1 show exactly one slide each.
    float band = max(softness, 0.0);
    float edge = 1.0 - progress * (1.0 + band);
    float reveal = band > 0.0 ? smoothstep(edge, edge + band, uv.x) : step(edge, uv.x);
    return mix(getFromColor(uv), getToColor(uv), reveal);
}
