// Author: Reel
// License: MIT
// The next slide shows through a greyscale matte: where it is darkest first, then ever
// lighter, until the whole frame has turned. `matte` is an image (the host fits it to
// the frame); `softness` is the width of the blended band, in matte levels (0..1);
// `invert` above 0.5 turns the order round, lightest first.

uniform sampler2D matte; // = clouds
uniform float softness; // = 0.1
uniform float invert; // = 0.0

vec4 transition(vec2 uv) {
    float level = getImageColor(matte, uv).r;
    float t = invert > 0.5 ? level : 1.0 - level;  // 1 = revealed first
    // As the iris does: the edge starts and ends just outside 0..1, so progress 0 and 1
    // show one slide each even where the matte is pure black or white.
    float band = max(softness, 0.0);
    float edge = 1.001 - progress * (1.002 + band);
    float reveal = band > 0.0 ? smoothstep(edge, edge + band, t) : step(edge, t);
    return mix(getFromColor(uv), getToColor(uv), reveal);
}
