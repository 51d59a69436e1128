// Author: Reel
// License: MIT
// Fade out to a flat colour over the first half, then in from it over the second.

uniform vec3 color; // = vec3(0.0)

vec4 transition(vec2 uv) {
    vec4 flat_colour = vec4(color, 1.0);
    float t = progress * 2.0;
    return t < 1.0 ? mix(getFromColor(uv), flat_colour, t) : mix(flat_colour, getToColor(uv), t - 1.0);
}
