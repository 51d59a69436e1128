// Author: Reel
// License: MIT
// Both slides move down together; the next one pushes in from the top.

vec4 transition(vec2 uv) {
    float y = uv.y + progress;  // where this pixel sits on the strip [from below to], y up
    return y < 1.0 ? getFromColor(vec2(uv.x, y)) : getToColor(vec2(uv.x, y - 1.0));
}
