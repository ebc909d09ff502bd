# cmake -DIN=FILE -DOUT=FILE.cpp -DNAME=symbol -P embed_binary.cmake: FILE's bytes as
# `extern const unsigned char NAME[]` and `NAME_size`, for a library that carries a helper
# executable of its own (engine/asyncify_rewrite.cpp).
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR size "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x..,){32})" "\\1\n" bytes "${bytes}")
file(WRITE "${OUT}.tmp" "// Generated from ${IN} by cmake/embed_binary.cmake.\nextern const unsigned char ${NAME}[];\nextern const unsigned long ${NAME}_size;\nconst unsigned char ${NAME}[] = {\n${bytes}\n};\nconst unsigned long ${NAME}_size = ${size};\n")
file(RENAME "${OUT}.tmp" "${OUT}")
