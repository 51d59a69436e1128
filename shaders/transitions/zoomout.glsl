// Author: Reel
// License: MIT
// The next slide fades in enlarged and shrinks about the centre until it fits.
// `strength` is how large it starts: the scale falls from 1 + strength to 1.

uniform float strength; // = 0.5

vec4 transition(vec2 uv) {
    float scale = 1.0 + max(strength, 0.0) * (1.0 - progress);
    vec2 zoomed = (uv - 0.5) / scale + 0.5;  // always inside the frame: no edge to clamp
    return mix(getFromColor(uv), getToColor(zoomed), progress);
}
