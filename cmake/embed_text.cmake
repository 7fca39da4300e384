# embed_text(INPUT OUTPUT): writes OUTPUT, a C++ brace list of raw string literals that,
# concatenated, give INPUT's bytes: `constexpr std::string_view kParts[] = {
# #include "OUTPUT" };`. Pieces of at most 60,000 bytes: ISO C++ compilers need support string
# literals of 65,536 only, and -Wpedantic warns past it. INPUT must not hold `)edgecase"`.
# The output is rewritten only when it changes (no rebuild on every configure).
function(embed_text input output)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${input})
  file(READ ${input} text)
  string(FIND "${text}" ")edgecase\"" bad)
  if(NOT bad EQUAL -1)
    message(FATAL_ERROR "${input} holds the sequence )edgecase\" that ends its C++ literal")
  endif()
  string(LENGTH "${text}" length)
  set(pieces "")
  set(at 0)
  while(at LESS length)
    string(SUBSTRING "${text}" ${at} 60000 piece)
    string(APPEND pieces "R\"edgecase(${piece})edgecase\",\n")
    math(EXPR at "${at} + 60000")
  endwhile()
  file(WRITE ${output}.tmp "${pieces}")
  configure_file(${output}.tmp ${output} COPYONLY)
endfunction()
