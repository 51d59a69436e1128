#version 330
// Author: Reel
// License: MIT
//
// One triangle that covers the whole viewport, built from gl_VertexID so no vertex
// buffer is needed: draw 3 vertices with an empty vertex array.

void main() {
    vec2 corner = vec2((gl_VertexID << 1) & 2, gl_VertexID & 2);  // (0,0) (2,0) (0,2)
    gl_Position = vec4(corner * 2.0 - 1.0, 0.0, 1.0);
}
