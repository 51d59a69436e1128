// Author: Reel
// License: MIT
// Both slides move up together; the next one pushes in from the bottom.

vec4 transition(vec2 uv) {
    float y = uv.y - progress;  // where this pixel sits on the strip [to below from], y up
    return y >= 0.0 ? getFromColor(vec2(uv.x, y)) : getToColor(vec2(uv.x, y + 1.0));
}
