// Author: Reel
// License: MIT
// An edge sweeps from the left side to the right, uncovering the next slide behind it.
// `softness` is the width of the blended band, in fractions of the frame width.

uniform float softness; // = 0.0

vec4 transition(vec2 uv) {
    // Mirror image of wipeleft: measure x from the right border.
    float x = 1.0 - uv.x;
    float band = max(softness, 0.0);
    float edge = 1.0 - progress * (1.0 + band);
    float reveal = band > 0.0 ? smoothstep(edge, edge + band, x) : step(edge, x);
    return mix(getFromColor(uv), getToColor(uv), reveal);
}
