# Writes the README's "Check your own server" code (between <!-- readme-example begin --> and
# <!-- readme-example end -->, inside its ```cpp fence) to OUT, as shown: the build compiles it
# (readme_example_tests), so the README's example cannot stop compiling unnoticed.
# Usage: cmake -DREADME=README.md -DOUT=file.cc -P scripts/readme_example.cmake
file(READ "${README}" text)
string(FIND "${text}" "<!-- readme-example begin -->" begin)
string(FIND "${text}" "<!-- readme-example end -->" end)
if(begin EQUAL -1 OR end EQUAL -1 OR end LESS begin)
  message(FATAL_ERROR "${README}: no <!-- readme-example begin/end --> markers")
endif()
math(EXPR length "${end} - ${begin}")
string(SUBSTRING "${text}" ${begin} ${length} block)
string(FIND "${block}" "```cpp\n" fence)
string(FIND "${block}" "\n```" close REVERSE)
if(fence EQUAL -1 OR close EQUAL -1 OR close LESS fence)
  message(FATAL_ERROR "${README}: no ```cpp block between the readme-example markers")
endif()
math(EXPR from "${fence} + 7")
math(EXPR code_length "${close} + 1 - ${from}")
string(SUBSTRING "${block}" ${from} ${code_length} code)
file(WRITE "${OUT}.new" "// Extracted from ${README} by scripts/readme_example.cmake: do not edit.\n${code}")
# Rewritten only when it changed, so an unrelated README edit rebuilds nothing.
file(COPY_FILE "${OUT}.new" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.new")
