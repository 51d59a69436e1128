#version 330
// Author: Reel
// License: MIT
//
// sRGB slide → one plane of BT.709 limited-range YUV 4:2:0, in two passes:
//   plane 0: Y into an R8 target of W×H;
//   plane 1: (Cb, Cr) into an RG8 target of W/2×H/2 (NV12's interleaved chroma).
// The arithmetic mirrors engine/colour.py `rgb_to_nv12` step for step, so the two
// agree within one code value: no linearisation, left-sited chroma (sample i sits on
// column 2i, filtered [1,2,1]/4 over columns 2i-1..2i+1, after averaging its row pair).
// Memory row r is written at gl_FragCoord.y = r + 0.5 and reads source row r, so the
// planes stay top-down like the uploaded image and need no flip on readback.

uniform sampler2D rgb;
uniform int plane;
// Rows of the RGB → (E'Y, E'Cb, E'Cr) matrix, set by the host from engine.colour so
// both paths use the very same float32 coefficients.
uniform vec3 ky;
uniform vec3 kcb;
uniform vec3 kcr;

out vec4 fragColor;

vec3 fetch(int x, int y) {
    return texelFetch(rgb, ivec2(x, y), 0).rgb;
}

// The two rows a chroma sample covers, averaged, at column x (clamped on the left).
vec3 row_pair(int x, int y) {
    x = max(x, 0);
    return (fetch(x, y) + fetch(x, y + 1)) * 0.5;
}

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    if (plane == 0) {
        float y = 16.0 + 219.0 * dot(fetch(p.x, p.y), ky);
        fragColor = vec4(y / 255.0, 0.0, 0.0, 1.0);  // UNORM8 stores round(v * 255)
        return;
    }
    ivec2 q = p * 2;
    vec3 sited = (row_pair(q.x - 1, q.y) + 2.0 * row_pair(q.x, q.y) + row_pair(q.x + 1, q.y)) * 0.25;
    vec2 c = 128.0 + 224.0 * vec2(dot(sited, kcb), dot(sited, kcr));
    fragColor = vec4(c / 255.0, 0.0, 1.0);
}
