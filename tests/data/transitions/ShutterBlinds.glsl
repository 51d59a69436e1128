// Author: Reel tests
// License: MIT
// Horizontal blinds that open in `count` bands, optionally from the bottom, tinted.

uniform int count; // = 6
uniform bool fromBottom; // = false
uniform vec2 offset; // = vec2(0.0, 0.0)
uniform vec3 tint /* = vec3(1.0) */;
uniform ivec2 cells; // = ivec2(4, 2)

vec4 transition(vec2 uv) {
    float y = fromBottom ? uv.y : 1.0 - uv.y;
    float band = fract((y + offset.y) * float(count));
    float open = step(band, progress);
    vec4 mixed = mix(getFromColor(uv), getToColor(uv), open);
    float cell = mod(floor(uv.x * float(cells.x)) + floor(uv.y * float(cells.y)), 2.0);
    return vec4(mixed.rgb * mix(vec3(1.0), tint, 0.0 * cell), mixed.a);
}
