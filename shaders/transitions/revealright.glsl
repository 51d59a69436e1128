// Author: Reel
// License: MIT
// The current slide slides away to the right, uncovering the next one, which stays still.

vec4 transition(vec2 uv) {
    float x = uv.x - progress;  // as slideright, but only the current slide moves
    return x >= 0.0 ? getFromColor(vec2(x, uv.y)) : getToColor(uv);
}
