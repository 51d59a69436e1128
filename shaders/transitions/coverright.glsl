// Author: Reel
// License: MIT
// The next slide slides in from the left over the current one, which stays still.

vec4 transition(vec2 uv) {
    float x = uv.x - progress;  // as slideright, but only the next slide moves
    return x < 0.0 ? getToColor(vec2(x + 1.0, uv.y)) : getFromColor(uv);
}
