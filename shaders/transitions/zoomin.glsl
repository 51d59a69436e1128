// Author: Reel
// License: MIT
// The current slide zooms in about the centre while the next one fades in.
// `strength` is how far it zooms: the scale grows from 1 to 1 + strength.

uniform float strength; // = 0.5

vec4 transition(vec2 uv) {
    float scale = 1.0 + max(strength, 0.0) * progress;
    vec2 zoomed = (uv - 0.5) / scale + 0.5;  // always inside the frame: no edge to clamp
    return mix(getFromColor(zoomed), getToColor(uv), progress);
}
