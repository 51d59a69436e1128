// Author: Reel
// License: MIT
// A diagonal edge sweeps from the top-left corner to the bottom-right one.
// `softness` is the width of the blended band, in fractions of the sweep.

uniform float softness; // = 0.0

vec4 transition(vec2 uv) {
    // t is 1 in the top-left corner, where the next slide shows first, and 0 in the
    // bottom-right one; the edge runs corner to corner, parallel to the other diagonal.
    float t = ((1.0 - uv.x) + uv.y) * 0.5;
    float band = max(softness, 0.0);
    float edge = 1.0 - progress * (1.0 + band);
    float reveal = band > 0.0 ? smoothstep(edge, edge + band, t) : step(edge, t);
    return mix(getFromColor(uv), getToColor(uv), reveal);
}
