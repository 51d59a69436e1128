// Author: Reel
// License: MIT
// Both slides move left together; the next one pushes in from the right.

vec4 transition(vec2 uv) {
    float x = uv.x + progress;  // where this pixel sits on the strip [from | to]
    return x < 1.0 ? getFromColor(vec2(x, uv.y)) : getToColor(vec2(x - 1.0, uv.y));
}
