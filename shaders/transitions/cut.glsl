// Author: Reel
// License: MIT
// The next slide replaces this one at once, halfway through.

vec4 transition(vec2 uv) {
    return progress < 0.5 ? getFromColor(uv) : getToColor(uv);
}
