// Author: Reel tests
// License: MIT
// Deliberately broken: line 8 uses a variable that was never declared.

uniform float amount; // = 1.0

vec4 transition(vec2 uv) {
    return mix(getFromColor(uv), getToColor(uv), progress * undeclaredAmount);
}
