// Author: Reel tests
// License: MIT
// The next slide appears where a greyscale matte is darker than the progress.

uniform sampler2D luma;
uniform float softness; // = 0.1

vec4 transition(vec2 uv) {
    float threshold = texture2D(luma, uv).r;
    float edge = progress * (1.0 + softness);
    float reveal = smoothstep(threshold, threshold + softness, edge);
    return mix(getFromColor(uv), getToColor(uv), reveal);
}
