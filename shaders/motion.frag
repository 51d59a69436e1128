#version 330
// Author: Reel
// License: MIT
//
// One plane (Y, or CbCr) of a slide in motion, drawn from its layers: the back layer
// through a moving window, the static layer over it, a chart that appears pixel by
// pixel (its image where the reveal clock has passed a pixel's time, its base where
// not), then the build items, each row shifted by its item's offset and faded by its
// opacity. The numpy twin is
// engine/composite/layers.py (`compose_plane`): same formulas, same order, so keep
// the two in step.
//
// Every texture holds top-down rows (memory row 0 is the top of the picture), as do
// the targets, so gl_FragCoord's texel is the memory texel: no flips here.

uniform sampler2D back;          // Hb×Wb (or half, for chroma)
uniform sampler2D static_colour; // frame plane size; unused when has_static is false
uniform sampler2D static_alpha;
uniform sampler2D item_colour;   // unused when has_items is false
uniform sampler2D item_alpha;
uniform sampler2D rows;          // 1×H: the build item (0..255 as UNORM8) of each row
uniform sampler2D reveal_image;  // unused when has_reveal is false
uniform sampler2D reveal_image_alpha;
uniform sampler2D reveal_base;
uniform sampler2D reveal_base_alpha;
uniform usampler2D reveal_times; // R16UI: each texel's reveal time, 0..65535

uniform bool has_static;
uniform bool has_items;
uniform bool has_reveal;
uniform uint reveal_threshold;   // the clock, 0..65535: texels with a time at most this show the image
uniform float reveal_opacity;    // the image's opacity (a picture that fades in)
uniform bool back_at_rest;       // the window is the whole back layer, texel for texel
uniform vec4 back_map;           // sx, ox, sy, oy: back position = frame position · s + o
uniform vec3 items[32];          // opacity, dx, dy (texels) of items 1…n; items[0] unused

out vec4 colour;

int item_of_row(int y) {
    return int(texelFetch(rows, ivec2(0, y), 0).r * 255.0 + 0.5);
}

vec4 back_texel(ivec2 p) {
    return texelFetch(back, p, 0);
}

uvec4 back_code(ivec2 p) {  // the texel's bytes, 0..255
    return uvec4(back_texel(p) * 255.0 + 0.5);
}

// Bilinear in fixed point, as engine/composite/resample.py does it: the position in
// 1/256 texel, b = (t0·(256 − fx) + t1·fx + 128) >> 8 across, then
// (b0·(256 − fy) + b1·fy + 128) >> 8 down, each pass rounded to a byte. Integer
// arithmetic is exact in GLSL, so the twin matches it bit for bit; the texture unit's
// own filtering would not allow that.
vec4 back_colour() {
    if (back_at_rest) {
        return back_texel(ivec2(gl_FragCoord.xy));  // what the bilinear below gives there
    }
    ivec2 size = textureSize(back, 0);
    vec2 position = vec2(gl_FragCoord.x * back_map.x + back_map.y - 0.5,
                         gl_FragCoord.y * back_map.z + back_map.w - 0.5);
    position = clamp(position, vec2(0.0), vec2(size - 1));
    ivec2 q = ivec2(floor(position * 256.0 + 0.5));
    ivec2 i0 = q >> 8;
    uvec2 f = uvec2(q & 255);
    uvec2 g = uvec2(256u) - f;
    ivec2 i1 = min(i0 + 1, size - 1);
    uvec4 top = (back_code(i0) * g.x + back_code(ivec2(i1.x, i0.y)) * f.x + 128u) >> 8u;
    uvec4 bottom = (back_code(ivec2(i0.x, i1.y)) * g.x + back_code(i1) * f.x + 128u) >> 8u;
    uvec4 v = (top * g.y + bottom * f.y + 128u) >> 8u;
    return vec4(v) * (1.0 / 255.0);
}

void main() {
    ivec2 at = ivec2(gl_FragCoord.xy);
    vec4 value;
    float a = 1.0;
    if (has_static) {
        a = texelFetch(static_alpha, at, 0).r;
    }
    if (has_static && a == 1.0) {
        value = texelFetch(static_colour, at, 0);  // covered: the back layer is not needed
    } else {
        value = back_colour();
        if (has_static) {
            value = value + (texelFetch(static_colour, at, 0) - value) * a;
        }
    }
    if (has_reveal) {
        bool shown = texelFetch(reveal_times, at, 0).r <= reveal_threshold;
        vec4 f = shown ? texelFetch(reveal_image, at, 0) : texelFetch(reveal_base, at, 0);
        float weight = shown ? texelFetch(reveal_image_alpha, at, 0).r * reveal_opacity
                             : texelFetch(reveal_base_alpha, at, 0).r;
        value = value + (f - value) * weight;
    }
    if (has_items) {
        int item = item_of_row(at.y);
        if (item > 0) {
            vec3 state = items[item];
            ivec2 source = at - ivec2(state.yz);
            ivec2 size = textureSize(item_colour, 0);
            if (all(greaterThanEqual(source, ivec2(0))) && all(lessThan(source, size)) && item_of_row(source.y) == item) {
                float weight = texelFetch(item_alpha, source, 0).r * state.x;
                value = value + (texelFetch(item_colour, source, 0) - value) * weight;
            }
        }
    }
    colour = value;
}
