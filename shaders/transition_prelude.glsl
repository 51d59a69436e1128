#version 330
// Author: Reel
// License: MIT
//
// Host side of the gl-transitions convention for a core profile. The host appends a
// transition file (which defines `vec4 transition(vec2 uv)`) after this prelude and
// draws one full-screen triangle per YUV plane into that plane's target: R8 W×H for
// Y, RG8 W/2×H/2 for (Cb, Cr). Every built-in is affine in colour, so the same source
// runs on both planes; colour parameters arrive already converted per plane.
//
// Coordinates follow gl-transitions: uv in 0..1 with y pointing up. Plane textures
// are stored top-down (memory row 0 is the top of the picture), so uv.y is flipped
// once here and in the samplers, and readback needs no flip.

uniform sampler2D from;
uniform sampler2D to;
uniform float progress;
uniform float ratio;

out vec4 _reel_out;

// Nearest texel at floor(uv * size), clamped to the edge: the slides are already at
// the output size, and an explicit texelFetch gives the CPU compositor an exact
// formula to mirror (no filtering or sub-texel precision left to the driver). The
// clamp comes before the conversion to integers, so even a coordinate far outside
// the frame picks an edge texel (converting it first would be undefined).
vec4 _reel_sample(sampler2D plane, vec2 uv) {
    ivec2 size = textureSize(plane, 0);
    vec2 texel = floor(vec2(uv.x, 1.0 - uv.y) * vec2(size));
    return vec4(texelFetch(plane, ivec2(clamp(texel, vec2(0.0), vec2(size - 1))), 0).rg, 0.0, 1.0);
}

vec4 getFromColor(vec2 uv) { return _reel_sample(from, uv); }
vec4 getToColor(vec2 uv) { return _reel_sample(to, uv); }
// An image parameter (a luma matte), which the host uploads at the plane's size.
vec4 getImageColor(sampler2D image, vec2 uv) { return _reel_sample(image, uv); }

// An integer hash (the "lowbias32" mixer: xor-shifts and odd multipliers), so noise
// is the same bits on every GPU and in numpy (engine.composite.twins._mix_bits), for
// the built-ins that scatter (dissolve, blurfade).
uint mix_bits(uint x) {
    x ^= x >> 16u;
    x *= 0x7feb352du;
    x ^= x >> 15u;
    x *= 0x846ca68bu;
    x ^= x >> 16u;
    return x;
}

vec4 transition(vec2 uv);

void main() {
    vec2 at = gl_FragCoord.xy / vec2(textureSize(from, 0));
    _reel_out = transition(vec2(at.x, 1.0 - at.y));
}

