// Author: Reel
// License: MIT
// An edge sweeps from the bottom up, uncovering the next slide behind it.
// `softness` is the width of the blended band, in fractions of the frame height.

uniform float softness; // = 0.0

vec4 transition(vec2 uv) {
    // wipeleft turned a quarter: t is 1 at the bottom, where the next slide shows first.
    float t = 1.0 - uv.y;
    float band = max(softness, 0.0);
    float edge = 1.0 - progress * (1.0 + band);
    float reveal = band > 0.0 ? smoothstep(edge, edge + band, t) : step(edge, t);
    return mix(getFromColor(uv), getToColor(uv), reveal);
}
