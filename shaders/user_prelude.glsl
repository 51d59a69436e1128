#version 330
// Author: Reel
// License: MIT
//
// Host side for a user's gl-transitions file, run in RGB (a user file may do
// anything to colour, so it is not composited on YUV planes). The file is appended
// after this prelude, behind a "#line 1" so compiler messages point at its own lines.
//
// Core-profile compatibility: texture2D is texture; the file defines only
// transition(), and main() here writes its result. uv has y pointing up as in
// gl-transitions; slides are stored top-down, so getFromColor/getToColor flip once,
// and the target is written top-down too, ready for the RGB → YUV pass. Image
// parameters are uploaded bottom-up, so a file's texture2D(image, uv) sees them
// upright. Slides always match the frame's aspect ratio, so no resize mode is needed
// for them: _fromR and _toR equal ratio.

uniform sampler2D from;
uniform sampler2D to;
uniform float progress;
uniform float ratio;
uniform float _fromR;
uniform float _toR;
uniform vec2 _reel_size;

out vec4 _reel_out;

#define texture2D texture

vec4 getFromColor(vec2 uv) { return texture(from, vec2(uv.x, 1.0 - uv.y)); }
vec4 getToColor(vec2 uv) { return texture(to, vec2(uv.x, 1.0 - uv.y)); }

vec4 transition(vec2 uv);

void main() {
    vec2 at = gl_FragCoord.xy / _reel_size;
    _reel_out = transition(vec2(at.x, 1.0 - at.y));
}
